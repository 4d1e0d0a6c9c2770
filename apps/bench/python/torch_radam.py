"""PyTorch's RAdam over the same shapes as `pnpm bench --models` (see src/torch.ts).

Reads one JSON object on stdin:
  {"sizes": [n, ...], "threads": t, "foreach": true|false, "timeMs": ms, "oneStepMs": ms}
and prints one JSON line: the median step time after warm-up, the timed steps, and the
peak resident memory above the process before the parameters were made.
Options as Rectify's rows: lr 1e-3, default betas and eps, no weight decay.
"""
import gc
import json
import statistics
import sys
import time


def vm_kib(field):
    """A VmRSS / VmHWM figure of /proc/self/status in bytes, or None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def reset_peak():
    """Resets the kernel's high-water mark, so that VmHWM tells the peak of what follows."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def main():
    config = json.load(sys.stdin)
    import torch

    torch.set_num_threads(int(config["threads"]))
    torch.manual_seed(0)
    gc.collect()
    baseline = vm_kib("VmRSS")
    kernel = reset_peak()
    params = []
    for size in config["sizes"]:
        p = torch.empty(size, dtype=torch.float32).uniform_(-1, 1).requires_grad_()
        p.grad = torch.empty(size, dtype=torch.float32).uniform_(-1, 1)
        params.append(p)
    opt = torch.optim.RAdam(params, lr=1e-3, foreach=bool(config["foreach"]))

    def step():
        start = time.perf_counter()
        opt.step()
        return (time.perf_counter() - start) * 1000

    first = step()
    note = None
    if first > config["oneStepMs"]:
        times = [first]
        note = "one step only: over %g s a step (the first, un-rectified)" % (config["oneStepMs"] / 1000)
    else:
        slow = first > 1000
        for _ in range(5 if slow else 9):  # past step 6, where the rectified update starts
            step()
        times = []
        budget = time.perf_counter() + config["timeMs"] / 1000
        while len(times) < (3 if slow else 5) or time.perf_counter() < budget:
            times.append(step())
    peak = vm_kib("VmHWM") if kernel else None
    peak = peak if peak is not None else vm_kib("VmRSS")
    report = {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "foreach": bool(config["foreach"]),
        "msPerStep": statistics.median(times),
        "samples": len(times),
        "peakExtraBytes": max(0, peak - baseline) if peak is not None and baseline is not None else None,
        "peakMethod": "VmHWM" if kernel else "sampled",
    }
    if note is not None:
        report["note"] = note
    print(json.dumps(report))


if __name__ == "__main__":
    main()
