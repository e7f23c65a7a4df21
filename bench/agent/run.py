#!/usr/bin/env python3
"""Agent overhead, side by side in one run: wrk against the demo shop (examples/shop) without
the agent and under `vigil run --mode block`, on loopback. Rounds alternate between the two so
that a noisy machine hurts both alike; the median round of each is reported.

Prints requests/s, p50 and p99 latency and peak RSS for both, and the differences against the
targets (<= 3% fewer requests/s, <= 50 us added p99, <= 10 MB added RSS).

--instructions N counts instead (valgrind callgrind, independent of the machine's load): the
instructions per request of the shop without and with the agent over N requests sent on
--connections keep-alive connections, and where the agent's share goes (its hooks, inclusive).

--cache N simulates the caches and branch predictors instead (valgrind cachegrind, modelled on
a 32 KB 8-way L1 per side and a 1 MB L2): per request, instructions, L1 instruction- and
data-cache misses and mispredicted branches, without and with the agent, from runs of N and 3N
requests (their difference leaves out start-up and warm-up). The agent's code runs a little at a
time between the program's, so each line of it is mostly fetched anew: its cost follows the code
it touches per request as much as the instructions it runs.

--latency-rounds N adds N pairs of rounds with one connection (wrk -c1): the latency one request
gets from the shop when none waits behind another. At full load (the rounds above, eight
connections against one CPU) a request mostly waits for the ones before it, so any CPU the agent
adds per request comes back at p99 multiplied by the queue: with the shop's p99 at 3.3 ms, +50 us
there is 1.5% of CPU. With one connection the added latency is the agent's own.

--paired-latency N adds N rounds in which one client (paired_latency.cpp, built by this script)
sends one request at a time to each of the two shops in turn, both running at once on one CPU:
the two shops' latencies are measured at the same moments, microseconds apart, so the machine's
drift, which leaves the one-connection rounds above undecided, hits both alike. It reports the
difference of the rounds' p50 and p99 (median of rounds, 95% interval). With --rounds 0 it runs
alone.

--mix sends the demo's benign requests in turn (examples/shop/battery.tsv, the ones the runtime's
shop has) instead of one --path: the traffic of the demo rather than its cheapest request. The
ping requests are left out: each starts a process and waits for an ICMP echo, so the shop's
time would go to ping and the rounds would measure that.

--pin runs the shop's threads on the last CPU and wrk on the others, so that the two do not take
turns on the same CPUs (the shop's CPU is then what bounds its throughput, as on a server whose
clients are elsewhere).

--together runs the two shops at the same time instead of in turn, both on the last CPU (wrk on
the others), each loaded by its own wrk for the same seconds. Each shop is a session of its own,
which the kernel schedules as a group (sched_autogroup): the two get equal shares of the CPU, so
that each one's requests per second follow its CPU per request, and whatever else the machine is
doing at that moment (another virtual machine on the host, the clock speed) hits both alike. On
a shared virtual machine, where a shop alone varies by half between rounds of a few seconds,
this is what narrows the interval to a percent or two (a run with the agent on neither side
gives 0.1%, interval -0.5..+1.7%). --against BUILD then compares with the agent of another
build instead of no agent: whether a change to the agent made it cheaper.

Besides the medians of each side, the median over rounds of each round's difference with the
other round of its pair (the pair shares the machine's state of the moment) is printed, with a
95% confidence interval (bootstrap over the pairs, a fixed seed). The pairs alternate which side
runs first (ABBA), so that a machine speeding up or slowing down does not favour one side. The
verdict on each target is "met" when the whole interval is within it, "MISSED" when the whole
interval is beyond it, and "not decided" otherwise: more rounds narrow the interval.

usage: bench/agent/run.py [--build build] [--rounds 3] [--seconds 5] [--connections 8]
                          [--path /search?q=lamp | --mix] [--runtime cpp|py|node|node-h2] [--pin]
                          [--together [--against BUILD]] [--latency-rounds N]
                          [--instructions N | --cache N]
"""
import argparse
import copy
import http.client
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import shoplib  # noqa: E402

UNITS = {"us": 1.0, "ms": 1000.0, "s": 1000000.0}
# The shops keep their files under the work directory. Its name must not contain a request's
# input (the User-Agent "vigil-bench" in "vigil-bench-agent-..." made every file the Python shop
# opened look like it held an input, and the bench measured path checks no real request gets).
WORK_PREFIX = "agent-overhead-"


def micros(text):
    m = re.match(r"([\d.]+)(us|ms|s)$", text)
    return float(m.group(1)) * UNITS[m.group(2)] if m else float("nan")


def parse_wrk(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = micros(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = micros(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {"rps": rps, "p50": p50, "p99": p99,
            "non2xx": int(errors.group(1)) if errors else 0,
            "socket_errors": socket_errors.group(1) if socket_errors else ""}


def cpu_us(pid):
    """User + system CPU time of the whole process (all threads), in microseconds."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) * 1e6 / ticks


def peak_rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def autogroup_enabled():
    try:
        with open("/proc/sys/kernel/sched_autogroup_enabled") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


def pin(pid, cpus):
    """Moves every thread of `pid` to `cpus` (threads it starts later inherit it)."""
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            os.sched_setaffinity(int(tid), cpus)
        except OSError:
            pass  # a thread that just ended


def start_shop(args, agent, work, tag, build=None):
    """Starts one shop (from `build`, default --build), under the agent in block mode or not;
    returns it and the URL to load. Each shop is a session of its own (shoplib), hence, where
    the kernel groups tasks by session (sched_autogroup), a scheduling group of its own."""
    build = build or args.build
    port = shoplib.free_port()
    cmd = shoplib.shop_command(args.runtime, build, port, os.path.join(work, tag + "-data"))
    shop = shoplib.Shop(cmd, port, vigil=os.path.join(build, "bin", "vigil"),
                        agent_mode="block" if agent else None,
                        events=os.path.join(work, tag + "-events.jsonl"), app="shop-bench",
                        log=os.path.join(work, tag + ".log"))
    return shop, "http://127.0.0.1:%d%s" % (port, args.path)


def load(args, wrk, shops):
    """Runs wrk against each of `shops` ((shop, url) pairs) at the same time, after a second of
    warm-up (thread pool, SQLite connections, the agent's first request); returns one result
    per shop: wrk's figures, the CPU the shop spent per request and its share of the run."""
    script = ["-s", args.mix_script] if args.mix_script else []

    def start(url, seconds, out):
        return subprocess.Popen(wrk + ["-t1", "-c%d" % args.connections, "-d%ds" % seconds, "--latency"] +
                                script + [url],
                                stdout=out, stderr=subprocess.DEVNULL, text=True)
    for p in [start(url, 1, subprocess.DEVNULL) for _, url in shops]:
        p.wait(60)
    cpu_before = [cpu_us(shop.proc.pid) for shop, _ in shops]
    procs = [start(url, args.seconds, subprocess.PIPE) for _, url in shops]
    outs = [p.communicate(timeout=args.seconds + 60)[0] for p in procs]
    cpu_after = [cpu_us(shop.proc.pid) for shop, _ in shops]
    results = []
    for (shop, _), out, before, after in zip(shops, outs, cpu_before, cpu_after):
        result = parse_wrk(out)
        requests = int(re.search(r"(\d+) requests in", out).group(1))
        # CPU the shop spent per request: unlike throughput and latency, hardly disturbed by
        # other work on the machine.
        result["requests"] = requests
        result["cpu"] = (after - before) / max(requests, 1)
        result["share"] = (after - before) / (args.seconds * 1e6)
        result["rss"] = peak_rss_kib(shop.proc.pid)
        if not shop.alive():
            raise RuntimeError("the shop died during the benchmark")
        results.append(result)
    return results


def lua_string(text):
    return '"%s"' % "".join(c if c.isalnum() or c in "/?=&%.-_ " else "\\%03d" % ord(c) for c in text)


def mix_entries(args):
    """--mix: the benign requests of the runtime's shop (its battery), without ping."""
    return [e for e in shoplib.battery(args.runtime, 0) if e.kind == "benign" and not e.id.startswith("ping")]


def write_mix_script(args, work):
    """--mix: a wrk script that sends mix_entries() in turn; returns its path and how many
    requests it cycles through."""
    entries = mix_entries(args)
    # Formatted at the first request, once wrk's own init has put the Host field in wrk.headers
    # (formatted when the script loads, the requests had none, and Node.js answers 400 to that).
    lines = ["local requests = nil", "local next_one = 0", "request = function()",
             "  if requests == nil then", "    requests = {"]
    for e in entries:
        headers = '{["Content-Type"] = "application/x-www-form-urlencoded"}' if e.body is not None else "nil"
        body = lua_string(e.body) if e.body is not None else "nil"
        lines.append("      wrk.format(%s, %s, %s, %s)," % (lua_string(e.method), lua_string(e.target), headers, body))
    lines += ["    }", "  end", "  next_one = next_one %% %d + 1" % len(entries), "  return requests[next_one]", "end", ""]
    path = os.path.join(work, "mix.lua")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path, len(entries)


def one_round(args, wrk, agent, work, tag):
    shop, url = start_shop(args, agent, work, tag)
    try:
        shop.wait_ready()
        if args.pin:
            pin(shop.proc.pid, {os.cpu_count() - 1})
        return load(args, wrk, [(shop, url)])[0]
    finally:
        shop.stop()


def start_both(args, work, r, shops):
    """Starts the two shops of round `r` into `shops` ({False: without the agent or of
    --against, True: with it}: (shop, url)), both on the last CPU; returns the order they were
    started in, which alternates. The caller stops them."""
    sides = (False, True) if r % 2 == 0 else (True, False)
    for agent in sides:
        tag = "%s-%d" % ("agent" if agent else "base", r)
        if agent or not args.against:
            shops[agent] = start_shop(args, agent, work, tag)
        else:
            shops[agent] = start_shop(args, True, work, tag, build=args.against)
    for agent in sides:
        shops[agent][0].wait_ready()
        pin(shops[agent][0].proc.pid, {os.cpu_count() - 1})
    return sides


def together_round(args, wrk, work, r):
    """One round of --together: both shops on the last CPU at once, each loaded by its own wrk;
    returns {False: the result without the agent (or of --against), True: with it}."""
    shops = {}
    try:
        sides = start_both(args, work, r, shops)
        return dict(zip(sides, load(args, wrk, [shops[agent] for agent in sides])))
    finally:
        for shop, _ in shops.values():
            shop.stop()


def median_interval(values, level=0.95, resamples=4000, seed=1):
    """The median of `values` and a bootstrap confidence interval of it: (median, low, high)."""
    rng = random.Random(seed)
    n = len(values)
    medians = sorted(statistics.median(rng.choice(values) for _ in range(n)) for _ in range(resamples))
    tail = (1 - level) / 2
    return (statistics.median(values), medians[int(tail * resamples)],
            medians[min(resamples - 1, int((1 - tail) * resamples))])


def verdict(low, high, target):
    """A target of "at most `target`" against a confidence interval [low, high]."""
    if high <= target:
        return "met"
    if low > target:
        return "MISSED"
    return "not decided"


def keep_alive_requests(port, path, count, connections):
    """Sends `count` GET requests over `connections` keep-alive connections (one thread each);
    returns how many were answered 200. HTTP/2 (shoplib.H2: the node-h2 runtime) through h2load
    (Debian nghttp2-client), one stream at a time per connection."""
    if shoplib.H2:
        h2load = shutil.which("h2load")
        if h2load is None:
            raise RuntimeError("h2load (Debian nghttp2-client) is not installed")
        out = subprocess.run([h2load, "-n", str(count // connections * connections), "-c", str(connections),
                              "-m", "1", "-H", "user-agent: vigil-bench", "http://127.0.0.1:%d%s" % (port, path)],
                             capture_output=True, text=True, timeout=600).stdout
        m = re.search(r"status codes: (\d+) 2xx", out)
        return int(m.group(1)) if m else 0
    ok = [0] * connections

    def run(i):
        conn = None
        for _ in range(count // connections):
            for _attempt in range(3):
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                    conn.request("GET", path, headers={"User-Agent": "vigil-bench"})
                    r = conn.getresponse()
                    r.read()
                    ok[i] += r.status == 200
                    if r.getheader("Connection", "").lower() == "close":
                        conn.close()
                        conn = None
                    break
                except (OSError, http.client.HTTPException):
                    conn = None
        if conn is not None:
            conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok)


def callgrind_costs(out_file):
    """Inclusive instruction counts by function of a callgrind output file."""
    text = subprocess.run(["callgrind_annotate", "--inclusive=yes", "--threshold=100", "--show-percs=no",
                           "--auto=no", out_file], capture_output=True, text=True, check=True).stdout
    costs = {}
    for line in text.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(\S.*)$", line)
        if m:
            costs[m.group(2)] = int(m.group(1).replace(",", ""))
    return costs


def shop_under_valgrind(args, agent, work, tag, tool):
    """Starts the shop (with the agent preloaded or not) under valgrind with the `tool` options;
    returns (process, port, log file) once it answers."""
    port = shoplib.free_port()
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if agent:  # what `vigil run --mode block` sets; valgrind must see the preload itself
        env.update({"LD_PRELOAD": os.path.abspath(os.path.join(args.build, "lib", "libvigil_preload.so")),
                    "VIGIL_MODE": "block", "VIGIL_APP": "shop-bench",
                    "VIGIL_EVENTS": os.path.join(work, tag + "-events.jsonl")})
    cmd = ["valgrind"] + tool + \
        shoplib.shop_command(args.runtime, args.build, port, os.path.join(work, tag + "-data"))
    log = open(os.path.join(work, tag + "-valgrind.log"), "wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while shoplib.request(port, "GET", "/", timeout=10)[0] != 200:
        if proc.poll() is not None or time.monotonic() > deadline:
            os.killpg(proc.pid, 9)
            proc.wait(60)
            log.close()
            raise RuntimeError("the shop under valgrind did not answer")
        time.sleep(0.5)
    return proc, port, log


def count_instructions(args, agent, work):
    """Instructions per request of the shop (all its threads), and the agent's hooks' share."""
    tag = "agent" if agent else "bare"
    out = os.path.join(work, "callgrind-%s.out" % tag)
    proc, port, log = shop_under_valgrind(args, agent, work, tag,
                                          ["--tool=callgrind", "--callgrind-out-file=" + out])
    try:
        # Warm up: thread pool, SQLite connections, the agent's first request and buffers.
        keep_alive_requests(port, args.path, 10 * args.connections, args.connections)
        subprocess.run(["callgrind_control", "-z", str(proc.pid)], capture_output=True, check=True)
        answered = keep_alive_requests(port, args.path, args.instructions, args.connections)
        subprocess.run(["callgrind_control", "-d", str(proc.pid)], capture_output=True, check=True)
    finally:
        os.killpg(proc.pid, 15)
        proc.wait(60)
        log.close()
    sent = args.instructions // args.connections * args.connections
    if answered != sent:
        raise RuntimeError("%d of %d requests answered 200" % (answered, sent))
    dumps = sorted(f for f in os.listdir(work) if f.startswith("callgrind-%s.out." % tag))
    costs = callgrind_costs(os.path.join(work, dumps[-1]))
    total = max(v for k, v in costs.items() if k == "PROGRAM TOTALS" or "start_thread" in k)
    # The agent's entry points from its hooks (without the hooked call itself).
    entries = {"on_accept": "accepting connections", "on_read": "request capture, parse, input analysis",
               "check_sink": "sink checks (SQL, shell, paths...)",
               "check_sink_guarded": "sink checks (SQL, shell, paths...)",  # the SQL hooks' entry
               "on_write": "response tracking and checks",
               "on_close": "closing connections", "check_connect": "outbound connections",
               "note_lookup": "name lookups"}
    parts = {}
    for name, value in costs.items():
        m = re.match(r"^\?\?\?:vigil::agent::Agent::(\w+)\(.*libvigil_preload\.so\]$", name)
        if m and m.group(1) in entries:
            parts[entries[m.group(1)]] = max(parts.get(entries[m.group(1)], 0), value / sent)
        # Agent::on_read may be inlined into the read hooks' common tail.
        if re.match(r"^\?\?\?:\(anonymous namespace\)::after_read\(.*libvigil_preload\.so\]$", name):
            label = entries["on_read"]
            parts[label] = max(parts.get(label, 0), value / sent)
    return total / sent, parts


CACHE_EVENTS = ("Ir", "I1mr", "ILmr", "Dr", "D1mr", "DLmr", "Dw", "D1mw", "DLmw", "Bc", "Bcm", "Bi", "Bim")


def cachegrind_totals(args, agent, work, count):
    """Program totals of the cachegrind events over `count` requests (plus start-up and warm-up)."""
    tag = "%s-%d" % ("agent" if agent else "bare", count)
    out = os.path.join(work, "cachegrind-%s.out" % tag)
    proc, port, log = shop_under_valgrind(args, agent, work, tag, [
        "--tool=cachegrind", "--cache-sim=yes", "--branch-sim=yes", "--I1=32768,8,64", "--D1=32768,8,64",
        "--LL=1048576,16,64", "--cachegrind-out-file=" + out])
    try:
        keep_alive_requests(port, args.path, 10 * args.connections, args.connections)
        answered = keep_alive_requests(port, args.path, count, args.connections)
    finally:
        os.killpg(proc.pid, 2)  # SIGINT: the shop exits cleanly and cachegrind writes its file
        proc.wait(60)
        log.close()
    if answered != count // args.connections * args.connections:
        raise RuntimeError("%d of %d requests answered 200" % (answered, count))
    text = subprocess.run(["cg_annotate", "--auto=no", out], capture_output=True, text=True, check=True).stdout
    for line in text.splitlines():
        if "PROGRAM TOTALS" in line:
            values = [int(v.replace(",", "")) for v in re.findall(r"([\d,]+)(?: \(|\s)", line)]
            return dict(zip(CACHE_EVENTS, values))
    raise RuntimeError("no totals in " + out)


def cache_main(args):
    for tool in ("valgrind", "cg_annotate"):
        if shutil.which(tool) is None:
            print("bench-agent: %s is not installed (Debian package valgrind)" % tool)
            return 77
    work = tempfile.mkdtemp(prefix=WORK_PREFIX)
    n = args.cache // args.connections * args.connections
    print("cachegrind (L1 32 KB 8-way per side, L2 1 MB): GET %s on %d keep-alive connections, "
          "runs of %d and %d requests" % (args.path, args.connections, n, 3 * n))
    rows = (("instructions", ("Ir",)), ("L1 instruction-cache misses", ("I1mr",)),
            ("L1 data-cache misses", ("D1mr", "D1mw")), ("mispredicted branches", ("Bcm", "Bim")))
    per = {}
    for agent in (False, True):
        low = cachegrind_totals(args, agent, work, n)
        high = cachegrind_totals(args, agent, work, 3 * n)
        per[agent] = {label: sum(high[e] - low[e] for e in events) / (2 * n) for label, events in rows}
    print("  per request                       without    with agent      added")
    for label, _ in rows:
        a, b = per[False][label], per[True][label]
        print("  %-30s %10.0f %12.0f %+10.0f (%+.1f%%)" % (label, a, b, b - a, (b - a) / a * 100 if a else 0))
    if args.keep:
        print("cachegrind files kept in " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def instructions_main(args):
    for tool in ("valgrind", "callgrind_control", "callgrind_annotate"):
        if shutil.which(tool) is None:
            print("bench-agent: %s is not installed (Debian package valgrind)" % tool)
            return 77
    work = tempfile.mkdtemp(prefix=WORK_PREFIX)
    print("callgrind: %d requests GET %s on %d keep-alive connections, after %d to warm up"
          % (args.instructions // args.connections * args.connections, args.path, args.connections,
             10 * args.connections))
    bare, _ = count_instructions(args, False, work)
    agent, hooks = count_instructions(args, True, work)
    print("  without agent %9.0f instructions/request" % bare)
    print("  with agent    %9.0f instructions/request  (%+.0f, %+.1f%%)" % (agent, agent - bare,
                                                                          (agent - bare) / bare * 100))
    print("  the agent's part, by entry point (inclusive, per request):")
    for name, value in sorted(hooks.items(), key=lambda kv: -kv[1]):
        if value >= 1:
            print("    %-40s %8.0f" % (name, value))
    if args.keep:
        print("callgrind files kept in " + work)
    else:
        shutil.rmtree(work, ignore_errors=True)
    return 0


def alternating_rounds(args, wrk, work, pairs, tag):
    """`pairs` pairs of rounds without and with the agent, each pair in the other order than the
    one before (ABBA), each round printed; returns {False: rounds without, True: rounds with}."""
    rounds = {False: [], True: []}
    for r in range(pairs):
        for agent in ((False, True) if r % 2 == 0 else (True, False)):
            res = one_round(args, wrk, agent, work, "%s%s-%d" % (tag, "agent" if agent else "bare", r))
            rounds[agent].append(res)
            print("  round %d %-14s %9.0f req/s  p50 %7.0f us  p99 %7.0f us  CPU %5.1f us/req  peak RSS %6.1f MB%s"
                  % (r + 1, "with agent" if agent else "without agent", res["rps"], res["p50"], res["p99"],
                     res["cpu"], res["rss"] / 1024,
                     "  (%d non-2xx!)" % res["non2xx"] if res["non2xx"] and not args.mix else ""),
                  flush=True)
    return rounds


def together_rounds(args, wrk, work):
    """--rounds rounds of together_round, each printed; returns {False: [...], True: [...]}."""
    rounds = {False: [], True: []}
    for r in range(args.rounds):
        res = together_round(args, wrk, work, r)
        for agent in (False, True):
            rounds[agent].append(res[agent])
        a, b = res[False], res[True]
        print("  round %2d %s %7.0f req/s  CPU %5.1f us/req  share %3.0f%%  |  with agent %7.0f req/s  CPU %5.1f"
              " us/req  share %3.0f%%  |  %+5.1f%% req/s%s"
              % (r + 1, args.base_label, a["rps"], a["cpu"], a["share"] * 100, b["rps"], b["cpu"], b["share"] * 100,
                 (b["rps"] - a["rps"]) / a["rps"] * 100,
                 "  (%d non-2xx!)" % (a["non2xx"] + b["non2xx"]) if a["non2xx"] + b["non2xx"] and not args.mix
                 else ""), flush=True)
    return rounds


def latency_phase(args, wrk, work):
    """Pairs of one-connection rounds (ABBA): p50 and p99 without and with the agent."""
    one = copy.copy(args)
    one.connections = 1
    print("\nwrk -t1 -c1 -d%ds --latency, %d alternating pairs: a request with none queued before it"
          % (args.seconds, args.latency_rounds))
    rounds = alternating_rounds(one, wrk, work, args.latency_rounds, "c1-")
    pairs = list(zip(rounds[False], rounds[True]))
    ci = {k: median_interval([b[k] - a[k] for a, b in pairs]) for k in ("p50", "p99", "cpu")}
    print("  %-18s p50 %6.0f us  p99 %6.0f us  CPU %5.1f us/req" % (
        "without agent", *(statistics.median(x[k] for x in rounds[False]) for k in ("p50", "p99", "cpu"))))
    print("  %-18s p50 %6.0f us  p99 %6.0f us  CPU %5.1f us/req" % (
        "with agent", *(statistics.median(x[k] for x in rounds[True]) for k in ("p50", "p99", "cpu"))))
    print("  median of pairs    p50 %+6.0f us (%+.0f..%+.0f)  p99 %+6.0f us (%+.0f..%+.0f)  CPU %+5.1f us (%+.1f..%+.1f)"
          % (*ci["p50"], *ci["p99"], *ci["cpu"]))
    print("target (one connection, on the 95%% interval): <= 50 us added p99 (%s)"
          % verdict(ci["p99"][1], ci["p99"][2], 50))


def quantile(sorted_values, q):
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


def paired_latency_phase(args, work):
    """--paired-latency: rounds in which one client sends one request at a time to each shop in
    turn (bench/agent/paired_latency.cpp), both shops on the last CPU, the client on the others.
    Returns 0, or 1 when the client could not be built or failed."""
    if os.cpu_count() < 2:
        print("bench-agent: --paired-latency needs two CPUs or more")
        return 1
    client = os.path.join(work, "paired_latency")
    source = os.path.join(os.path.dirname(os.path.abspath(__file__)), "paired_latency.cpp")
    cxx = shutil.which("c++") or shutil.which("g++")
    if cxx is None or subprocess.run([cxx, "-O2", "-std=c++20", "-o", client, source]).returncode != 0:
        print("bench-agent: cannot build %s" % source)
        return 1
    requests = os.path.join(work, "paired-requests.tsv")
    if args.mix:
        lines = [(e.method, e.target, e.body or "") for e in mix_entries(args)]
    else:
        lines = [("GET", args.path, "")]
    with open(requests, "w") as f:
        f.writelines("%s\t%s\t%s\n" % line for line in lines)
    by_request = [[] for _ in lines]  # each round's p50 difference, per request of the mix
    taskset = ["taskset", "-c", "0-%d" % (os.cpu_count() - 2)]
    print("\none request at a time, to each shop in turn (paired_latency), %d rounds of %d s, both shops on"
          " CPU %d: the latency the agent adds to a request with nothing queued, at the same moments"
          % (args.paired_latency, args.seconds, os.cpu_count() - 1))
    diffs = {"p50": [], "p99": []}
    for r in range(args.paired_latency):
        shops = {}
        try:
            start_both(args, work, r, shops)
            ports = [shops[agent][0].port for agent in (False, True)]

            def run(seconds):
                return subprocess.run(taskset + [client, str(ports[0]), str(ports[1]), str(seconds), requests],
                                      capture_output=True, text=True, timeout=seconds + 60)
            run(1)  # warm-up: thread pools, SQLite connections, the agent's first requests
            out = run(args.seconds)
            if out.returncode != 0:
                print("bench-agent: paired_latency failed: %s" % out.stderr.strip())
                return 1
        finally:
            for shop, _ in shops.values():
                shop.stop()
        pairs = [line.split() for line in out.stdout.splitlines()]
        sides = [sorted(int(p[i]) / 1000 for p in pairs) for i in (0, 1)]
        for i in range(len(lines)):
            mine = [p for p in pairs if int(p[2]) == i]
            if mine:
                by_request[i].append(statistics.median((int(p[1]) - int(p[0])) / 1000 for p in mine))
        q = [{k: quantile(v, f) for k, f in (("p50", 0.5), ("p99", 0.99))} for v in sides]
        for k in diffs:
            diffs[k].append(q[1][k] - q[0][k])
        print("  round %2d  %6d pairs  %s p50 %6.0f us  p99 %6.0f us  |  with agent p50 %6.0f us  p99 %6.0f us"
              "  |  p99 %+5.0f us" % (r + 1, len(pairs), args.base_label, q[0]["p50"], q[0]["p99"],
                                      q[1]["p50"], q[1]["p99"], q[1]["p99"] - q[0]["p99"]), flush=True)
    ci = {k: median_interval(v) for k, v in diffs.items()}
    print("  median of rounds   p50 %+6.0f us (%+.0f..%+.0f)  p99 %+6.0f us (%+.0f..%+.0f)"
          % (*ci["p50"], *ci["p99"]))
    print("target (one request at a time, on the 95%% interval): <= 50 us added p99 (%s)"
          % verdict(ci["p99"][1], ci["p99"][2], 50))
    if len(lines) > 1:
        print("  latency added per request of the mix (median of rounds of the pairs' median difference):")
        for (method, target, _), added in sorted(zip(lines, by_request), key=lambda x: -statistics.median(x[1] or [0])):
            if added:
                print("    %+6.1f us  %s %s" % (statistics.median(added), method, target))
    return 0


def throughput_phase(args, wrk, work, target):
    """The wrk rounds (--rounds): printed with the targets; returns the rounds by side."""
    load_now = " ".join(open("/proc/loadavg").read().split()[:3])
    if args.together:
        print("wrk -t1 -c%d -d%ds --latency http://127.0.0.1:PORT%s against both shops at once, both on CPU %d,"
              " %d rounds, load %s" % (args.connections, args.seconds, target, os.cpu_count() - 1, args.rounds,
                                       load_now))
        if not autogroup_enabled():
            print("caution: the kernel does not group tasks by session (kernel.sched_autogroup_enabled=0): the"
                  " two shops share the CPU by threads, not equally; CPU per request is the measure to read")
        by_agent = together_rounds(args, wrk, work)
    else:
        print("wrk -t1 -c%d -d%ds --latency http://127.0.0.1:PORT%s, %d alternating rounds, %d CPUs%s, load %s"
              % (args.connections, args.seconds, target, args.rounds, os.cpu_count(),
                 " (shop pinned to CPU %d)" % (os.cpu_count() - 1) if args.pin else "", load_now))
        by_agent = alternating_rounds(args, wrk, work, args.rounds, "")
    base = args.base_label
    rounds = {base: by_agent[False], "with agent": by_agent[True]}
    med = {name: {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50", "p99", "cpu", "rss")}
           for name, rs in rounds.items()}
    a, b = med[base], med["with agent"]
    print("\nmedian of %d rounds     req/s      p50 (us)   p99 (us)   CPU (us/req)   peak RSS (MB)" % args.rounds)
    for name in (base, "with agent"):
        m = med[name]
        print("  %-18s %9.0f   %9.0f  %9.0f   %9.1f      %9.1f"
              % (name, m["rps"], m["p50"], m["p99"], m["cpu"], m["rss"] / 1024))
    drop = (a["rps"] - b["rps"]) / a["rps"] * 100
    p99 = b["p99"] - a["p99"]
    p50 = b["p50"] - a["p50"]
    rss = (b["rss"] - a["rss"]) / 1024
    cpu = b["cpu"] - a["cpu"]
    print("  %-18s %8.1f%%   %+9.0f  %+9.0f   %+9.1f      %+9.1f" % ("difference", -drop, p50, p99, cpu, rss))
    pairs = list(zip(rounds[base], rounds["with agent"]))
    diffs = {"rps": [(b_["rps"] - a_["rps"]) / a_["rps"] * 100 for a_, b_ in pairs],
             "p50": [b_["p50"] - a_["p50"] for a_, b_ in pairs],
             "p99": [b_["p99"] - a_["p99"] for a_, b_ in pairs],
             "cpu": [b_["cpu"] - a_["cpu"] for a_, b_ in pairs],
             "rss": [(b_["rss"] - a_["rss"]) / 1024 for a_, b_ in pairs]}
    ci = {k: median_interval(v) for k, v in diffs.items()}
    print("  %-18s %8.1f%%   %+9.0f  %+9.0f   %+9.1f      %+9.1f"
          % ("median of pairs", ci["rps"][0], ci["p50"][0], ci["p99"][0], ci["cpu"][0], ci["rss"][0]))
    print("  %-18s %s   %s  %s   %s      %s"
          % ("95% interval",
             "%+.1f..%+.1f%%" % ci["rps"][1:], "%+.0f..%+.0f" % ci["p50"][1:], "%+.0f..%+.0f" % ci["p99"][1:],
             "%+.1f..%+.1f" % ci["cpu"][1:], "%+.1f..%+.1f" % ci["rss"][1:]))
    # Fewer requests/s is minus the paired difference: its interval is [-high, -low].
    print("targets (on the 95%% interval of the paired differences): <= 3%% fewer req/s (%s), <= 50 us"
          " added p99 (%s), <= 10 MB added RSS (%s)"
          % (verdict(-ci["rps"][2], -ci["rps"][1], 3), verdict(ci["p99"][1], ci["p99"][2], 50),
             verdict(ci["rss"][1], ci["rss"][2], 10)))
    if args.together:
        # Shares of the CPU are equal only on average: each round's requests per CPU-second
        # (the inverse of its CPU per request) is the throughput at an exactly equal share.
        per_cpu = median_interval([(a_["cpu"] / b_["cpu"] - 1) * 100 for a_, b_ in pairs])
        print("  requests per CPU-second, median of pairs: %+.1f%% (%+.1f..%+.1f%%)" % per_cpu)
        print("(each shop had about half of one CPU: its latencies are those of a shop on a CPU it shares;"
              " the agent's own added latency is what --paired-latency measures)")
    spread = [x["rps"] for x in rounds[base]]
    if len(spread) > 1 and not args.together:
        noise = (max(spread) - min(spread)) / statistics.median(spread) * 100
        if noise > 2 * max(abs(drop), 3):
            print("caution: without the agent, req/s varied by %.0f%% between rounds (a busy machine): the"
                  " throughput and latency differences are not conclusive; CPU per request is the steadier"
                  " measure (%+.1f us, %+.0f%%)" % (noise, cpu, cpu / a["cpu"] * 100))
    return rounds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--rounds", type=int, default=3,
                    help="rounds of wrk (0: none, for --latency-rounds or --paired-latency alone)")
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument("--path", default="/search?q=lamp")
    ap.add_argument("--mix", action="store_true",
                    help="send the demo's benign requests in turn (without ping) instead of --path")
    ap.add_argument("--runtime", choices=("cpp", "py", "node", "node-h2"), default="cpp",
                    help="which shop: the C++ demo (examples/shop), the Python or the Node.js one")
    ap.add_argument("--pin", action="store_true", help="the shop on the last CPU, wrk on the others")
    ap.add_argument("--together", action="store_true",
                    help="run both shops at once on one CPU (implies --pin), each loaded by its own wrk")
    ap.add_argument("--against", metavar="BUILD",
                    help="with --together: compare with the agent of another build instead of no agent")
    ap.add_argument("--latency-rounds", type=int, default=0, metavar="N",
                    help="then N pairs of rounds with one connection: the latency the agent adds itself")
    ap.add_argument("--paired-latency", type=int, default=0, metavar="N",
                    help="then N rounds of one request at a time to each shop in turn: the latency the"
                         " agent adds itself, both shops measured at the same moments")
    ap.add_argument("--instructions", type=int, default=0, metavar="N",
                    help="count instructions per request over N requests (callgrind) instead")
    ap.add_argument("--keep", action="store_true", help="keep the valgrind output files (--instructions, --cache)")
    ap.add_argument("--cache", type=int, default=0, metavar="N",
                    help="simulate caches and branch prediction over N and 3N requests (cachegrind) instead")
    args = ap.parse_args()
    shoplib.H2 = args.runtime == "node-h2"  # the shop's readiness probe and requests speak h2c
    if args.mix and (args.instructions or args.cache or args.runtime == "node-h2"):
        ap.error("--mix is for wrk's rounds over HTTP/1.1 (not --instructions, --cache or node-h2)")
    args.mix_script = None
    if args.against and not args.together:
        ap.error("--against needs --together")
    if args.against and args.latency_rounds:
        ap.error("--latency-rounds compares with no agent: not with --against")
    args.pin = args.pin or args.together
    args.base_label = "agent of %s" % args.against if args.against else "without agent"
    if args.instructions:
        return instructions_main(args)
    if args.cache:
        return cache_main(args)
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench-agent: wrk is not installed (Debian package wrk; scripts/install-deps)")
        return 77
    wrk = [wrk]
    if args.pin:
        if os.cpu_count() < 2:
            print("bench-agent: --pin needs two CPUs or more")
            return 1
        wrk = ["taskset", "-c", "0-%d" % (os.cpu_count() - 2)] + wrk
    for build in [args.build] + ([args.against] if args.against else []):
        for f in ("bin/vigil", "bin/vigil-shop", "lib/libvigil_preload.so"):
            if not os.path.exists(os.path.join(build, f)):
                print("bench-agent: %s/%s is missing: build first" % (build, f))
                return 1
    work = tempfile.mkdtemp(prefix=WORK_PREFIX)
    target = args.path
    if args.mix:
        args.mix_script, count = write_mix_script(args, work)
        args.path = "/"  # wrk's script chooses each request's target
        target = " (the demo's %d benign requests but ping, in turn: %s)" % (count, args.mix_script)
    rounds = throughput_phase(args, wrk, work, target) if args.rounds else {}
    if args.latency_rounds:
        latency_phase(args, wrk, work)
    if args.paired_latency and paired_latency_phase(args, work) != 0:
        return 1
    bad = sum(x["non2xx"] for rs in rounds.values() for x in rs)
    base = args.base_label
    if args.mix and rounds:
        # The demo's 404s and 401s are part of the mix: the agent must leave their share as it is.
        share = {name: sum(x["non2xx"] for x in rs) / max(1, sum(x["requests"] for x in rs)) * 100
                 for name, rs in rounds.items()}
        print("non-2xx answers (the mix's 404s and 401s): %.1f%% %s, %.1f%% with agent%s"
              % (share[base], base, share["with agent"],
                 "" if abs(share[base] - share["with agent"]) < 1 else "  warning: the agent changed answers"))
    elif bad:
        print("warning: %d non-2xx answers during the runs" % bad)
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
