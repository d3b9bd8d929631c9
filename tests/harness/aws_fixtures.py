# -*- coding: utf-8 -*-
"""Fixtures of the AWS integration tests (a pytest plugin: ``pytest_plugins = ["tests.harness.aws_fixtures"]``):
moto's server from the harness and a boto3 Secrets Manager client on it."""
import boto3
import pytest


@pytest.fixture(scope="module")
def aws(harness):
    return harness.start("aws")


@pytest.fixture(scope="module")
def sm(aws):  # pylint: disable=redefined-outer-name
    return boto3.client("secretsmanager", endpoint_url=aws["url"], region_name=aws["region"],
                        aws_access_key_id=aws["access_key"], aws_secret_access_key=aws["secret_key"])
