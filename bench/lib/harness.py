#!/usr/bin/env python3
"""The benchmark harness's measurements on one database, and the report.

`bench/run` builds, starts PostgreSQL and calls this; see bench/README.md.

    harness.py run --db sqlite|postgres --url DATABASE_URL --out FILE ...
    harness.py report --scale S --out-dir DIR FILE...
"""

import argparse
import atexit
import base64
import datetime as dt
import json
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
BENCH = os.path.dirname(HERE)

W1 = "query($id: ID!) { node(id: $id) { ... on Touchpoint { id kind channel occurredAt } } }"
W2 = """query($id: ID!) {
  account(id: $id) {
    id
    name
    stakeholders(first: 20) {
      totalCount
      edges { role node {
        id
        name
        touchpoints(first: 50) {
          totalCount
          pageInfo { hasNextPage }
          edges { cursor node { id kind channel occurredAt } }
        }
      } }
    }
  }
}"""
FUNNEL = """query($model: ID!, $from: DateTime!, $to: DateTime!) {
  funnel(modelId: $model, from: $from, to: $to) {
    from to
    stages { stage { id name } entered movedOn conversion dropOff medianSeconds }
  }
}"""
NPS = """query($from: DateTime!, $to: DateTime!) {
  nps(from: $from, to: $to) { score responses promoters passives detractors }
}"""


def log(msg):
    print(f"[bench {dt.datetime.now(dt.timezone.utc):%H:%M:%S}] {msg}", file=sys.stderr, flush=True)


def fail(msg):
    log("FAILED: " + msg)
    sys.exit(1)


# Servers still running when the harness exits, by failure or not: a failed
# run must not leave a server behind to load the next one's machine.
RUNNING = []


@atexit.register
def _stop_servers():
    for proc in RUNNING:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def gql(url, token, query, variables=None):
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    req = urllib.request.Request(
        url,
        data=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=300) as r:
            answer = json.load(r)
    except urllib.error.HTTPError as e:
        fail(f"HTTP {e.code} from {url}: {e.read()[:500]!r}")
    if answer.get("errors"):
        fail(f"GraphQL errors: {json.dumps(answer['errors'])[:1000]}")
    return answer["data"]


class Server:
    """One `journeys serve`, its log in a file."""

    def __init__(self, bin_path, env, log_path, trace):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/graphql"
        self.log_path = log_path
        env = dict(env)
        env["JOURNEYS_BIND"] = f"127.0.0.1:{self.port}"
        env["JOURNEYS_RATE_LIMIT"] = "0"
        if trace:
            env["JOURNEYS_LOG"] = "journeys::sql=trace"
            env["JOURNEYS_LOG_FORMAT"] = "json"
        else:
            env.pop("JOURNEYS_LOG", None)
        self.log_file = open(log_path, "wb")
        self.proc = subprocess.Popen(
            [bin_path, "serve"], env=env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        RUNNING.append(self.proc)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                fail(f"the server exited with {self.proc.returncode}; see {log_path}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/readyz", timeout=2) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        fail(f"the server was not ready within 120 s; see {log_path}")

    def vm_hwm_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        return None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log_file.close()


# The server's own background polls (sync runs to take over, scheduled
# connectors, pending backfills, webhook endpoints with events to deliver),
# which no request makes.
BACKGROUND = (b'sync_runs', b'connectors\\".\\"enabled\\" = ', b'backfill_pending\\" = ',
              b'webhook_endpoints')


def sql_lines(path):
    """Statements the server logged so far for requests: one `journeys::sql`
    event a line, less its background polls."""
    with open(path, "rb") as f:
        return sum(1 for line in f
                   if b"journeys::sql" in line and not any(m in line for m in BACKGROUND))


def run_json(cmd, what, env=None):
    log("  $ " + " ".join(shlex.quote(c) for c in cmd[:12]) + (" …" if len(cmd) > 12 else ""))
    p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if p.returncode != 0:
        fail(f"{what} failed ({p.returncode}):\n{p.stderr[-3000:]}\n{p.stdout[-2000:]}")
    data = parse_json(p.stdout)
    if data is None:
        fail(f"{what} printed no JSON:\n{p.stdout[-2000:]}\n{p.stderr[-2000:]}")
    return data


def parse_json(out):
    """oha prints one indented document; the driver, one line after its log."""
    out = out.strip()
    for text in (out, out.splitlines()[-1] if out else ""):
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            pass
    return None


def server_errors(oha_out):
    """oha's errors, less the requests it cut off itself when its duration
    ended: those are no answer of the server's."""
    return {k: v for k, v in oha_out.get("errorDistribution", {}).items()
            if k != "aborted due to deadline"}


class Load:
    """HTTP load: oha for measurements, the Rust driver for the smoke run."""

    def __init__(self, args, token):
        self.args = args
        self.token = token

    def oha(self, url, body_file, duration, rate=None, concurrency=16):
        cmd = [
            self.args.oha, "--no-tui", "--output-format", "json",
            "-z", f"{duration}s", "-c", str(concurrency), "-m", "POST",
            "-H", f"Authorization: Bearer {self.token}",
            "-H", "Content-Type: application/json", "-D", body_file,
        ]
        if rate:
            cmd += ["-q", f"{rate:.2f}", "--latency-correction"]
        cmd.append(url)
        out = run_json(cmd, "oha")
        codes = out.get("statusCodeDistribution", {})
        bad = {k: v for k, v in codes.items() if k != "200"}
        errors = server_errors(out)
        if bad or errors or not codes:
            fail(f"oha saw non-200 answers {bad} or errors {errors}")
        pct = out.get("latencyPercentiles", {})
        return {
            "requests": sum(codes.values()),
            "requests_per_s": out["summary"]["requestsPerSec"],
            "p50_ms": (pct.get("p50") or 0) * 1000,
            "p99_ms": (pct.get("p99") or 0) * 1000,
            "offered_rate": rate,
            "tool": "oha",
        }

    def driver(self, url, body_file, duration, rate=None, concurrency=16, requests=None):
        cmd = [self.args.driver, "load", "--url", url, "--body-file", body_file,
               "--concurrency", str(concurrency)]
        if requests:
            cmd += ["--requests", str(requests)]
        else:
            cmd += ["--duration", str(duration)]
        if rate:
            cmd += ["--rate", f"{rate:.2f}"]
        env = dict(os.environ, JOURNEYS_BENCH_TOKEN=self.token)
        out = run_json(cmd, "the driver's load", env=env)
        out["tool"] = "driver"
        return out

    def measure(self, url, body_file, duration, rate=None, concurrency=16):
        if self.args.smoke or not self.args.oha:
            return self.driver(url, body_file, duration, rate, concurrency)
        return self.oha(url, body_file, duration, rate, concurrency)

    def start_background(self, url, body_file, duration, rate):
        """Fixed-rate load beside W4; returns a handle for `finish`."""
        if self.args.smoke or not self.args.oha:
            cmd = [self.args.driver, "load", "--url", url, "--body-file", body_file,
                   "--concurrency", "16", "--duration", str(duration), "--rate", f"{rate:.2f}"]
            env = dict(os.environ, JOURNEYS_BENCH_TOKEN=self.token)
            tool = "driver"
        else:
            cmd = [self.args.oha, "--no-tui", "--output-format", "json", "-z", f"{duration}s",
                   "-c", "16", "-m", "POST", "-H", f"Authorization: Bearer {self.token}",
                   "-H", "Content-Type: application/json", "-D", body_file,
                   "-q", f"{rate:.2f}", "--latency-correction", url]
            env = None
            tool = "oha"
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        return (proc, tool)

    def finish(self, handle):
        proc, tool = handle
        out, err = proc.communicate()
        if proc.returncode != 0:
            fail(f"the background load failed: {err[-2000:]}")
        data = parse_json(out)
        if data is None:
            fail(f"the background load printed no JSON:\n{out[-2000:]}\n{err[-2000:]}")
        if tool == "driver":
            return data
        codes = data.get("statusCodeDistribution", {})
        errors = server_errors(data)
        if any(k != "200" for k in codes) or errors:
            fail(f"the background load saw errors: {codes} {errors}")
        pct = data.get("latencyPercentiles", {})
        return {
            "requests": sum(codes.values()),
            "requests_per_s": data["summary"]["requestsPerSec"],
            "p50_ms": (pct.get("p50") or 0) * 1000,
            "p99_ms": (pct.get("p99") or 0) * 1000,
            "offered_rate": None,
        }


def psql(args, sql):
    p = subprocess.run(
        [args.psql, "-X", "-A", "-t", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.url, "-c", sql],
        capture_output=True, text=True,
    )
    if p.returncode != 0:
        fail(f"psql failed: {p.stderr}")
    return p.stdout.strip()


def expand_repeat(path, work):
    """A copy of a script whose rows between `-- repeat N` and `-- end repeat`
    (or the end) are expanded: N times, comma-joined (as sqlite-ceiling does)."""
    with open(path) as f:
        text = f.read()
    m = re.search(r"^-- repeat (\d+)\n", text, re.M)
    if not m:
        return path
    end = re.search(r"^-- end repeat\n", text[m.end():], re.M)
    row_end = m.end() + end.start() if end else len(text)
    tail = text[m.end() + end.end():] if end else ";\n"
    row = text[m.end():row_end].strip().rstrip(";")
    out = os.path.join(work, os.path.basename(path))
    with open(out, "w") as f:
        f.write(text[:m.start()] + ",\n".join([row] * int(m.group(1))) + "\n" + tail)
    return out


def pgbench(args, script, defines, clients=16, duration=None):
    duration = duration or args.duration
    script = expand_repeat(script, args.work)
    cmd = [args.pgbench, "-n", "-M", "prepared", "-f", script, "-c", str(clients),
           "-j", "2", "-T", str(duration)]
    for k, v in defines.items():
        cmd += ["-D", f"{k}={v}"]
    cmd.append(args.url)
    log("  $ pgbench -f " + os.path.relpath(script, BENCH) + f" -c {clients} -T {duration}")
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        fail(f"pgbench {script} failed:\n{p.stderr[-3000:]}\n{p.stdout[-2000:]}")
    m = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", p.stdout)
    lat = re.search(r"latency average = ([0-9.]+) ms", p.stdout)
    failed = re.search(r"number of failed transactions: (\d+)", p.stdout)
    if not m:
        fail(f"pgbench printed no tps:\n{p.stdout}")
    if failed and int(failed.group(1)) > 0:
        fail(f"pgbench {script}: {failed.group(1)} failed transactions\n{p.stdout}")
    return {"per_s": float(m.group(1)), "latency_avg_ms": float(lat.group(1)) if lat else None,
            "clients": clients}


def sqlite_ceiling(args, script, connections=4, duration=None):
    duration = duration or args.duration
    cmd = [args.ceiling, "--db", args.sqlite_path, "--script", script,
           "--connections", str(connections), "--duration", str(duration)]
    out = run_json(cmd, f"the SQLite ceiling {script}")
    out["per_s"] = out["iterations_per_s"]
    return out


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def cmd_run(args):
    args.duration = 3 if args.smoke else args.duration
    dur = args.duration
    env = dict(os.environ)
    env["DATABASE_URL"] = args.url
    env["JOURNEYS_JWT_SECRET"] = base64.b64encode(os.urandom(48)).decode()
    env.pop("JOURNEYS_LOG", None)
    work = args.work
    os.makedirs(work, exist_ok=True)
    result = {"database": args.db, "scale": args.scale, "smoke": args.smoke,
              "accounts": args.accounts, "people_per_account": args.people,
              "touchpoints": args.touchpoints, "duration_s": dur, "workloads": {}}

    # Seed, with its peak RSS when GNU time is there.
    log(f"{args.db}: seeding {args.accounts} × {args.people} × {args.touchpoints}")
    seed_cmd = [args.bin, "seed", "--workspace", "bench", "--accounts", str(args.accounts),
                "--people-per-account", str(args.people), "--touchpoints", str(args.touchpoints),
                "--seed", "1"]
    timed = os.path.exists("/usr/bin/time")
    began = time.time()
    p = subprocess.run((["/usr/bin/time", "-v"] if timed else []) + seed_cmd, env=env,
                       capture_output=True, text=True)
    seed_s = time.time() - began
    if p.returncode != 0:
        fail(f"the seed failed:\n{p.stderr[-3000:]}")
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr)
    result["seed"] = {"seconds": seed_s, "peak_rss_kb": int(rss.group(1)) if rss else None,
                      "summary": next((l for l in p.stderr.splitlines() if l.startswith("seeded")), None)}
    log(f"{args.db}: seeded in {seed_s:.1f} s")
    if args.db == "postgres":
        # What autovacuum would leave after a bulk load: fresh statistics,
        # and a visibility map so that index-only counts stay index-only.
        began = time.time()
        psql(args, "VACUUM ANALYZE")
        result["seed"]["vacuum_analyze_seconds"] = time.time() - began
        log(f"{args.db}: VACUUM ANALYZE in {time.time() - began:.1f} s")

    token = subprocess.run(
        [args.bin, "token", "--workspace", "bench", "--scope", "journeys:read journeys:write",
         "--ttl", "2h"], env=env, capture_output=True, text=True, check=True).stdout.strip()
    load = Load(args, token)

    # The statement-counting pass, on a server tracing every statement.
    trace_log = os.path.join(work, f"{args.db}-trace.log")
    server = Server(args.bin, env, trace_log, trace=True)
    url = server.url
    found = gql(url, token, """{ accounts(first: 1, filter: {search: "bench00000.example"}) {
        nodes { id name touchpoints(first: 5) { totalCount nodes { id } } } }
        journeyModels { id isDefault } }""")
    account = found["accounts"]["nodes"][0]
    model = next(m["id"] for m in found["journeyModels"] if m["isDefault"])
    touchpoint = account["touchpoints"]["nodes"][0]["id"]
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0)
    window = {"from": iso(now - dt.timedelta(days=90)), "to": iso(now + dt.timedelta(minutes=1))}
    result["subjects"] = {"account": account["name"], "account_touchpoints": account["touchpoints"]["totalCount"],
                          "window": window}
    bodies = {
        "W1": {"query": W1, "variables": {"id": touchpoint}},
        "W2": {"query": W2, "variables": {"id": account["id"]}},
        "W3 funnel": {"query": FUNNEL, "variables": {"model": model, **window}},
        "W3 nps": {"query": NPS, "variables": window},
    }
    files = {}
    for name, body in bodies.items():
        data = gql(url, token, body["query"], body["variables"])
        if name == "W1" and not (data.get("node") or {}).get("id"):
            fail(f"W1 found no touchpoint: {data}")
        if name == "W2":
            people = data["account"]["stakeholders"]
            result["subjects"]["account_people"] = people["totalCount"]
            result["subjects"]["w2_touchpoints"] = sum(
                len(e["node"]["touchpoints"]["edges"]) for e in people["edges"])
        if name == "W3 funnel" and not data["funnel"]["stages"]:
            fail("the funnel has no stages")
        path = os.path.join(work, f"{args.db}-{name.replace(' ', '-')}.json")
        with open(path, "w") as f:
            json.dump(body, f)
        files[name] = path
    stmts = {}
    n = 3 if args.smoke else 10
    for name, path in files.items():
        load.driver(url, path, None, concurrency=1, requests=2)  # warm: token cache, loaders
        time.sleep(0.3)
        before = sql_lines(trace_log)
        load.driver(url, path, None, concurrency=1, requests=n)
        time.sleep(0.5)
        # The driver's load sends one checking request before the n.
        stmts[name] = (sql_lines(trace_log) - before) / (n + 1)
        log(f"{args.db}: {name}: {stmts[name]:.2f} statements a request")
    ingest_base = [args.driver, "ingest", "--url", url, "--workspace", "bench",
                   "--accounts", str(args.accounts), "--people-per-account", str(args.people)]
    tenv = dict(os.environ, JOURNEYS_BENCH_TOKEN=token)
    for known in (0, 30):
        time.sleep(0.3)
        before = sql_lines(trace_log)
        out = run_json(ingest_base + ["--batches", "2", "--known-percent", str(known),
                                      "--tag", f"count{known}"], "W4 counting", env=tenv)
        time.sleep(0.5)
        stmts[f"W4 {known}% known"] = (sql_lines(trace_log) - before) / 3
        log(f"{args.db}: W4 {known}% known: {stmts[f'W4 {known}% known']:.1f} statements a batch")
    server.stop()

    # The measured runs, on a server at the default log level.
    server = Server(args.bin, env, os.path.join(work, f"{args.db}-serve.log"), trace=False)
    url = server.url
    w = result["workloads"]
    for name, path in files.items():
        log(f"{args.db}: {name}: saturation, 16 connections, {dur} s")
        sat = load.measure(url, path, dur, concurrency=16)
        rate = max(1.0, sat["requests_per_s"] / 2)
        log(f"{args.db}: {name}: {sat['requests_per_s']:.1f}/s; now at {rate:.1f}/s fixed")
        fixed = load.measure(url, path, dur, rate=rate, concurrency=16)
        gql(url, token, bodies[name]["query"], bodies[name]["variables"])
        w[name] = {"saturation": sat, "fixed": fixed, "statements": stmts[name]}
    ingest_base[3] = url
    batches = "2" if args.smoke else "100000"
    for known, conc in ((0, 1), (30, 1), (30, 2)):
        name = f"W4 {known}% known" + (f", {conc} at once" if conc > 1 else "")
        log(f"{args.db}: {name}: batches of 1,000 for {dur} s")
        out = run_json(ingest_base + ["--batches", batches, "--duration", str(dur),
                                      "--known-percent", str(known), "--concurrency", str(conc)],
                       name, env=tenv)
        log(f"{args.db}: {name}: {out['touchpoints_per_s']:.0f} touchpoints/s "
            f"({out['created']} created, {out['unchanged']} unchanged)")
        w[name] = {"ingest": out, "statements": stmts[f"W4 {known}% known"]}
    # W2 beside W4: W2 at the same fixed rate as alone, while batches go in.
    w2_rate = w["W2"]["fixed"]["offered_rate"] or max(1.0, w["W2"]["saturation"]["requests_per_s"] / 2)
    log(f"{args.db}: W2 at {w2_rate:.1f}/s beside W4 (30% known)")
    bg = load.start_background(url, files["W2"], dur, w2_rate)
    out = run_json(ingest_base + ["--batches", batches, "--duration", str(dur),
                                  "--known-percent", "30"], "W4 beside W2", env=tenv)
    beside = load.finish(bg)
    w["W2 beside W4"] = {"fixed": beside, "ingest": out, "alone_p99_ms": w["W2"]["fixed"]["p99_ms"]}
    log(f"{args.db}: W2 p99 alone {w['W2']['fixed']['p99_ms']:.1f} ms, beside W4 {beside['p99_ms']:.1f} ms")
    result["server_peak_rss_kb"] = server.vm_hwm_kb()
    server.stop()

    # Ceilings: the same data access as plain SQL, with the server stopped.
    log(f"{args.db}: ceilings")
    c = {}
    if args.db == "postgres":
        ids = psql(args, """SELECT w.id, a.id, t.id FROM workspaces w
            JOIN account_domains d ON d.workspace_id = w.id AND d.domain = 'bench00000.example'
            JOIN accounts a ON a.id = d.account_id
            JOIN LATERAL (SELECT id FROM touchpoints WHERE workspace_id = w.id AND account_id = a.id
                          ORDER BY occurred_at DESC, id DESC LIMIT 1) t ON true
            WHERE w.slug = 'bench'""").split("|")
        model_id = psql(args, f"SELECT id FROM journey_models WHERE workspace_id = '{ids[0]}' AND is_default")
        d = {"ws": ids[0], "account": ids[1], "touchpoint": ids[2], "model": model_id,
             "from": window["from"], "to": window["to"]}
        pg = os.path.join(BENCH, "ceiling", "postgres")
        c["W1"] = pgbench(args, os.path.join(pg, "w1.sql"), d)
        c["W2"] = pgbench(args, os.path.join(pg, "w2.sql"), d)
        c["W3 funnel"] = pgbench(args, os.path.join(pg, "w3-funnel.sql"), d)
        c["W3 nps"] = pgbench(args, os.path.join(pg, "w3-nps.sql"), d)
        people = psql(args, f"""SELECT m.account_id, m.stakeholder_id FROM memberships m
            WHERE m.workspace_id = '{ids[0]}' ORDER BY m.id LIMIT 1""").split("|")
        d4 = dict(d, account=people[0], person=people[1])
        ins = pgbench(args, os.path.join(pg, "w4-insert.sql"), d4, clients=1)
        ins["per_s"] *= 1000
        c["W4 insert"] = ins
        c["W4 copy"] = pg_copy(args, d4, work)
    else:
        sq = os.path.join(BENCH, "ceiling", "sqlite")
        c["W1"] = sqlite_ceiling(args, os.path.join(sq, "w1.sql"))
        c["W2"] = sqlite_ceiling(args, os.path.join(sq, "w2.sql"))
        c["W3 funnel"] = sqlite_ceiling(args, os.path.join(sq, "w3-funnel.sql"))
        c["W3 nps"] = sqlite_ceiling(args, os.path.join(sq, "w3-nps.sql"))
        ins = sqlite_ceiling(args, os.path.join(sq, "w4-insert.sql"), connections=1)
        ins["per_s"] *= 1000
        c["W4 insert"] = ins
    result["ceilings"] = c
    with open(args.out, "w") as f:
        json.dump(result, f, indent=2)
    log(f"{args.db}: done, {args.out}")


def pg_copy(args, d, work):
    """COPY of 1,000 touchpoints at a time, through psql's \\copy, for the duration."""
    cols = ("id, workspace_id, account_id, stakeholder_id, source, external_id, channel, kind, "
            "occurred_at, title, created_at, updated_at")
    per_file = 1000
    files = 5 if args.smoke else 40
    script = os.path.join(work, "copy.psql")
    stamp = int(time.time() * 1000)
    import uuid
    with open(script, "w") as s:
        for i in range(files):
            path = os.path.join(work, f"copy-{i}.csv")
            with open(path, "w") as f:
                for j in range(per_file):
                    f.write(f"{uuid.uuid4()},{d['ws']},{d['account']},{d['person']},bench-copy,"
                            f"copy-{stamp}-{i}-{j},WEB,page.visited,{d['to']},Visited /pricing,"
                            f"{d['to']},{d['to']}\n")
            s.write(f"\\copy touchpoints ({cols}) FROM '{path}' WITH (FORMAT csv)\n")
    began = time.time()
    p = subprocess.run([args.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", args.url, "-f", script],
                       capture_output=True, text=True)
    took = time.time() - began
    if p.returncode != 0:
        fail(f"COPY failed: {p.stderr[-2000:]}")
    return {"per_s": files * per_file / took, "touchpoints": files * per_file, "seconds": took}


def fmt_rate(x):
    if x is None:
        return "–"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_ms(x):
    return "–" if x is None else f"{x:.1f}"


def cmd_report(args):
    runs = []
    for path in args.files:
        with open(path) as f:
            runs.append(json.load(f))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    os.makedirs(args.out_dir, exist_ok=True)
    base = os.path.join(args.out_dir, f"{stamp}-{args.scale}")
    with open(base + ".json", "w") as f:
        json.dump({"scale": args.scale, "at": stamp, "machine": machine(), "runs": runs}, f, indent=2)
    lines = [f"# Journeys benchmark, scale `{args.scale}`, {stamp}", ""]
    if any(r["smoke"] for r in runs):
        lines += ["**Smoke run: the figures mean nothing, only that every workload ran.**", ""]
    lines += [f"Machine: {machine()}.", ""]
    for r in runs:
        c = r["ceilings"]
        w = r["workloads"]
        seed = r["seed"]
        lines += [
            f"## {'PostgreSQL' if r['database'] == 'postgres' else 'SQLite'}",
            "",
            f"{r['accounts']:,} accounts × up to {r['people_per_account']} people × "
            f"{r['touchpoints']:,} touchpoints; seeded in {seed['seconds']:.1f} s"
            + (f" (peak RSS {seed['peak_rss_kb'] / 1024:.0f} MB)" if seed.get("peak_rss_kb") else "")
            + f"; {r['duration_s']} s a measurement. W2's account: {r['subjects']['account']} "
            f"({r['subjects']['account_touchpoints']:,} touchpoints, {r['subjects']['account_people']} people, "
            f"{r['subjects']['w2_touchpoints']} touchpoints in the view). Server peak RSS (VmHWM): "
            f"{(r['server_peak_rss_kb'] or 0) / 1024:.0f} MB.",
            "",
            "| workload | Journeys | ceiling | Journeys / ceiling | statements | p50 ms | p99 ms | fixed rate |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for name in ("W1", "W2", "W3 funnel", "W3 nps"):
            x = w[name]
            ceil = c[name]["per_s"]
            ours = x["saturation"]["requests_per_s"]
            lines.append(
                f"| {name} (requests/s) | {fmt_rate(ours)} | {fmt_rate(ceil)} | {ours / ceil:.2f} "
                f"| {x['statements']:.1f} | {fmt_ms(x['fixed']['p50_ms'])} | {fmt_ms(x['fixed']['p99_ms'])} "
                f"| {fmt_rate(x['fixed']['offered_rate'])}/s |")
        ceil4 = c["W4 insert"]["per_s"]
        for name in ("W4 0% known", "W4 30% known", "W4 30% known, 2 at once"):
            x = w[name]["ingest"]
            lines.append(
                f"| {name} (touchpoints/s) | {fmt_rate(x['touchpoints_per_s'])} | {fmt_rate(ceil4)} "
                f"| {x['touchpoints_per_s'] / ceil4:.3f} | {w[name]['statements']:.1f} a batch "
                f"| {fmt_ms(x['batch_p50_ms'])} a batch | {fmt_ms(x['batch_p99_ms'])} a batch | – |")
        b = w["W2 beside W4"]
        lines.append(
            f"| W2 beside W4 30% known | {fmt_rate(b['fixed']['requests_per_s'])}/s | – | – | – "
            f"| {fmt_ms(b['fixed']['p50_ms'])} | {fmt_ms(b['fixed']['p99_ms'])} (alone {fmt_ms(b['alone_p99_ms'])}) "
            f"| {fmt_rate(w['W2']['fixed']['offered_rate'])}/s |")
        lines.append("")
        ceil_note = ("ceilings: pgbench, 16 clients (W4: 1 client, a 1,000-row INSERT)"
                     if r["database"] == "postgres" else
                     "ceilings: `sqlite-ceiling`, 4 connections (W4: 1, a 1,000-row INSERT)")
        if "W4 copy" in c:
            ceil_note += f"; COPY of 1,000 at a time: {fmt_rate(c['W4 copy']['per_s'])} touchpoints/s"
        lines += [f"W4 beside W2 recorded {fmt_rate(b['ingest']['touchpoints_per_s'])} touchpoints/s; {ceil_note}.", ""]
    text = "\n".join(lines)
    with open(base + ".md", "w") as f:
        f.write(text)
    with open(os.path.join(args.out_dir, f"latest-{args.scale}.md"), "w") as f:
        f.write(text)
    print(text)
    log(f"wrote {base}.json, {base}.md and latest-{args.scale}.md")


def machine():
    cores = os.cpu_count()
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f", {kb / 1024 / 1024:.0f} GB of memory"
    except OSError:
        pass
    return f"{cores} cores{mem}"


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("--db", required=True, choices=["sqlite", "postgres"])
    r.add_argument("--url", required=True)
    r.add_argument("--sqlite-path")
    r.add_argument("--out", required=True)
    r.add_argument("--work", required=True)
    r.add_argument("--bin", required=True)
    r.add_argument("--driver", required=True)
    r.add_argument("--ceiling", required=True)
    r.add_argument("--oha", default="")
    r.add_argument("--psql", default="psql")
    r.add_argument("--pgbench", default="pgbench")
    r.add_argument("--scale", required=True)
    r.add_argument("--accounts", type=int, required=True)
    r.add_argument("--people", type=int, required=True)
    r.add_argument("--touchpoints", type=int, required=True)
    r.add_argument("--duration", type=int, default=20)
    r.add_argument("--smoke", action="store_true")
    rep = sub.add_parser("report")
    rep.add_argument("--scale", required=True)
    rep.add_argument("--out-dir", required=True)
    rep.add_argument("files", nargs="+")
    args = p.parse_args()
    {"run": cmd_run, "report": cmd_report}[args.cmd](args)


if __name__ == "__main__":
    main()
