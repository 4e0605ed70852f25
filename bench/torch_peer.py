#!/usr/bin/python3
"""PyTorch peer of `npm run bench` (see bench/torch.ts): times the same work as ours with PyTorch.

Run as `/usr/bin/python3 bench/torch_peer.py`. Reads one JSON job per line on stdin and answers each
with one JSON object per line on stdout: {"ok": true, ...} or {"ok": false, "error": "..."}. Ends at
EOF. Nothing else is ever written to stdout. Jobs:

  {"op": "init", "threads": 2}
      imports torch, torch.set_num_threads(threads) -> {"torch": version, "python": version, "threads": n}
  {"op": "gemm", "m", "k", "n", "transA", "transB", "batch", "seconds", "min_reps", "max_reps"}
      C[m,n] = op(A)[m,k] . op(B)[k,n] (A stored [k,m] when transA, B stored [n,k] when transB; with
      batch > 1, `batch` strided matrices each, via torch.bmm), into a preallocated C. One warm-up call,
      then calls until `seconds` have passed and at least `min_reps` ran; the fastest call
      -> {"gflops": 2*batch*m*n*k / best_seconds / 1e9, "reps": n}
  {"op": "mlp_step", "batch", "d_in", "d_hidden", "lr", "warmup", "steps", "data"}
      x[batch,d_in] @ W1[d_in,d_hidden] -> gelu(tanh) -> @ W2[d_hidden,d_in], MSE against a target,
      backward, Adam step. `data` is a file of little-endian float32: x, target, W1, W2 (row-major, in
      that order), so both sides start from the same numbers. `warmup` untimed steps, then `steps`
      timed ones -> {"ms": [per timed step], "losses": [every step's loss, before its update]}
"""
import json
import sys
import time

torch = None


def init(job):
    global torch
    import torch as _torch  # the only place torch is imported: a missing torch fails this job

    torch = _torch
    torch.set_num_threads(int(job["threads"]))
    return {
        "torch": torch.__version__,
        "python": sys.version.split()[0],
        "threads": torch.get_num_threads(),
    }


def best_of(call, seconds, min_reps, max_reps):
    call()  # warm-up
    best = float("inf")
    start = time.perf_counter()
    reps = 0
    while reps < max_reps:
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        best = min(best, t1 - t0)
        reps += 1
        if reps >= min_reps and t1 - start > seconds:
            break
    return best, reps


def gemm(job):
    m, k, n = int(job["m"]), int(job["k"]), int(job["n"])
    ta, tb = bool(job.get("transA")), bool(job.get("transB"))
    batch = int(job.get("batch") or 1)
    gen = torch.Generator().manual_seed(1)
    lead = (batch,) if batch > 1 else ()

    def rnd(*shape):
        return torch.rand(*lead, *shape, generator=gen) - 0.5

    a = rnd(k, m) if ta else rnd(m, k)
    b = rnd(n, k) if tb else rnd(k, n)
    op_a = a.transpose(-1, -2) if ta else a  # views: BLAS sees a transposed operand, nothing is copied
    op_b = b.transpose(-1, -2) if tb else b
    c = torch.empty(*lead, m, n)
    if batch > 1:
        call = lambda: torch.bmm(op_a, op_b, out=c)  # noqa: E731
    else:
        call = lambda: torch.mm(op_a, op_b, out=c)  # noqa: E731
    with torch.no_grad():
        best, reps = best_of(call, float(job.get("seconds", 0.5)), int(job.get("min_reps", 3)), int(job.get("max_reps", 1000)))
    return {"gflops": 2.0 * batch * m * n * k / best / 1e9, "reps": reps}


def mlp_step(job):
    bsz, d, h = int(job["batch"]), int(job["d_in"]), int(job["d_hidden"])
    with open(job["data"], "rb") as f:
        flat = torch.frombuffer(bytearray(f.read()), dtype=torch.float32)
    sizes = [bsz * d, bsz * d, d * h, h * d]
    if flat.numel() != sum(sizes):
        raise ValueError(f"data file holds {flat.numel()} floats, expected {sum(sizes)}")
    x, target, w1, w2 = torch.split(flat, sizes)
    x = x.reshape(bsz, d).clone()
    target = target.reshape(bsz, d).clone()
    w1 = w1.reshape(d, h).clone().requires_grad_(True)
    w2 = w2.reshape(h, d).clone().requires_grad_(True)
    opt = torch.optim.Adam([w1, w2], lr=float(job["lr"]))
    F = torch.nn.functional

    def step():
        opt.zero_grad(set_to_none=True)  # as ours: gradients are dropped, not zero-filled
        y = F.gelu(x @ w1, approximate="tanh") @ w2
        loss = F.mse_loss(y, target)
        loss.backward()
        opt.step()
        return loss.item()

    losses, ms = [], []
    for _ in range(int(job["warmup"])):
        losses.append(step())
    for _ in range(int(job["steps"])):
        t0 = time.perf_counter()
        losses.append(step())
        ms.append((time.perf_counter() - t0) * 1000.0)
    return {"ms": ms, "losses": losses}


HANDLERS = {"init": init, "gemm": gemm, "mlp_step": mlp_step}


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    for line in sys.stdin:
        line = line.strip()
        if not line:
            continue
        op = None
        try:
            job = json.loads(line)
            op = job.get("op")
            if op != "init" and torch is None:
                raise RuntimeError("send an 'init' job first")
            if op not in HANDLERS:
                raise ValueError(f"unknown job {op!r}")
            reply({"ok": True, **HANDLERS[op](job)})
        except Exception as e:  # noqa: BLE001 - every failure becomes an answer, never a traceback on stdout
            reply({"ok": False, "error": f"{type(e).__name__}: {e}"})
            if op == "init" and torch is None:
                return  # torch could not be imported: nothing else can run


if __name__ == "__main__":
    main()
