# -*- coding: utf-8 -*-
"""Databases the rotation targets drive: PostgreSQL, MariaDB (``mysql``) and Redis."""
import os
import secrets
import shutil

from tests.harness.servers.common import READY_TIMEOUT, HarnessError, free_port, kill_pid, run, tail, tcp_banner, which


class DatabaseServers:
    """Mixed into ``Harness``: ``_start_<service>`` (and ``_stop_<service>``) for PostgreSQL, MariaDB and Redis."""

    # --- PostgreSQL -----------------------------------------------------------------------------
    def _start_postgres(self):
        base = self.path("postgres")
        data = os.path.join(base, "data")
        os.makedirs(base, mode=0o700, exist_ok=True)
        password = secrets.token_urlsafe(16)
        pwfile = os.path.join(base, "pw")
        with open(pwfile, "w") as f:
            f.write(password)
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(base, 0o700)
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        run(as_pg + [which("initdb"), "-D", data, "-U", "postgres", "--auth-host=scram-sha-256",
                     "--auth-local=peer", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        os.unlink(pwfile)
        port = free_port()
        log = os.path.join(base, "postgres.log")
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off "
                "-c synchronous_commit=off -c max_connections=50" % (port, base))
        try:
            run(as_pg + [which("pg_ctl"), "-D", data, "-l", log, "-w", "-t", str(int(READY_TIMEOUT)), "-o", opts,
                         "start"])
        except HarnessError as e:
            raise HarnessError("%s\nserver log %s:\n%s" % (e, log, tail(log))) from None
        with open(os.path.join(data, "postmaster.pid")) as f:
            pid = int(f.readline())
        self._write_pid("postgres", pid)
        return {"host": "127.0.0.1", "port": port, "user": "postgres", "password": password, "database": "postgres",
                "socket_dir": base, "pid": pid, "log": log,
                "env": {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "postgres", "PGPASSWORD": password}}

    def _stop_postgres(self, info):
        data = self.path("postgres", "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            run(as_pg + [which("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], check=False)
        kill_pid(self._pid_of("postgres", info))

    # --- MariaDB --------------------------------------------------------------------------------
    def _start_mysql(self):
        base = self.path("mysql")
        data = os.path.join(base, "data")
        os.makedirs(data, exist_ok=True)
        os.chmod(base, 0o700)
        if os.geteuid() == 0:  # mariadbd (as mysql) writes its socket, pid file and log here
            shutil.chown(base, "mysql", "mysql")
            shutil.chown(data, "mysql", "mysql")
        user_opt = ["--user=mysql"] if os.geteuid() == 0 else []
        common = ["--no-defaults"] + user_opt + ["--datadir=" + data]
        run([which("mariadb-install-db")] + common + ["--auth-root-authentication-method=socket",
                                                      "--skip-test-db", "--skip-name-resolve"])
        password = secrets.token_urlsafe(16)
        init = os.path.join(base, "init.sql")
        with open(init, "w") as f:
            f.write("ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password "
                    "USING PASSWORD('{pw}');\n"
                    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '{pw}';\n"
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
                    "FLUSH PRIVILEGES;\n".format(pw=password))
        if os.geteuid() == 0:
            shutil.chown(init, "mysql", "mysql")
        os.chmod(init, 0o600)
        port = free_port()
        sock = os.path.join(base, "mysqld.sock")
        log = os.path.join(base, "mysqld.log")
        cmd = [which("mariadbd")] + common + [
            "--bind-address=127.0.0.1", "--port=%d" % port, "--socket=" + sock, "--pid-file=" + os.path.join(
                base, "mysqld.pid"), "--log-error=" + log, "--init-file=" + init, "--skip-name-resolve",
            "--skip-log-bin", "--performance-schema=OFF", "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
            "--skip-external-locking", "--max-connections=50"]
        proc = self._spawn("mysql", cmd)
        # The handshake comes once the init file has run.
        self._wait("mysql", lambda: tcp_banner(port, expect=b"mysql_native_password"), log, proc)
        os.unlink(init)
        return {"host": "127.0.0.1", "port": port, "user": "root", "password": password, "socket": sock,
                "pid": proc.pid, "log": log}

    # --- Redis ----------------------------------------------------------------------------------
    def _start_redis(self):
        port = free_port()
        password = secrets.token_urlsafe(16)
        conf = self.path("redis.conf")
        with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            # A config file keeps the password off the command line (ps).
            f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\nappendonly no\nrequirepass %s\n"
                    "daemonize no\nprotected-mode yes\n" % (port, self.run_dir, password))
        proc = self._spawn("redis", [which("redis-server"), conf])
        log = self.path("redis.log")
        probe = b"AUTH %s\r\nPING\r\n" % password.encode()
        self._wait("redis", lambda: tcp_banner(port, send=probe, expect=b"+PONG"), log, proc)
        return {"host": "127.0.0.1", "port": port, "password": password, "pid": proc.pid, "log": log}
