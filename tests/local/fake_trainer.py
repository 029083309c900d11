"""A fast stand-in trainer for the local backend's process tests (starts in milliseconds).

    fake_trainer.py --x=0.3 [--steps=3] [--delay=0.05]

Prints ``accuracy_1=<value>`` per step (value = x + step/100) and its pid. Environment:
- ``FAKE_TRAINER_COUNT_DIR``: a folder; each run leaves a file there, and the runs after the
  first ``FAKE_TRAINER_FAST`` (default 2) ones hang (sleep) while ``FAKE_TRAINER_HANG`` is set;
- ``FAKE_TRAINER_CHILD``: when set, a hanging run first starts a grandchild (``sleep``) and writes
  its pid to ``grandchild.pid`` in the working directory, to check that a trial's whole process
  group is stopped.
"""

import argparse
import os
import subprocess
import sys
import time
import uuid


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--x", type=float, required=True)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--delay", type=float, default=0.05)
    a = p.parse_args()
    print(f"pid={os.getpid()} trial {os.environ.get('KATIB_TRIAL_NAME')}", flush=True)
    count_dir = os.environ.get("FAKE_TRAINER_COUNT_DIR")
    if count_dir:
        n = len(os.listdir(count_dir))
        open(os.path.join(count_dir, uuid.uuid4().hex), "w").close()
        if os.environ.get("FAKE_TRAINER_HANG") and n >= int(os.environ.get("FAKE_TRAINER_FAST", "2")):
            if os.environ.get("FAKE_TRAINER_CHILD"):
                child = subprocess.Popen(["sleep", "300"])
                with open("grandchild.pid", "w") as f:
                    f.write(str(child.pid))
            print("hanging", flush=True)
            time.sleep(300)
    for step in range(1, a.steps + 1):
        time.sleep(a.delay)
        print(f"accuracy_1={a.x + step / 100:.4f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
