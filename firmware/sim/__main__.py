"""One display cycle of the unchanged firmware against a Mars API endpoint, checked.

    cd firmware && python3 -m sim --url URL --api-key KEY --png screen.png [--cycles N]

Runs code.py on the simulated PyPortal, writes the screen to a PNG, and checks what it shows
against the API answer the firmware received (sim/check.py). Prints a JSON report on stdout;
exits 0 when the screen is right, 1 when it is not, 2 on a usage error.
"""

import argparse
import json
import os
import sys
import tempfile

from . import bmp
from .check import check_error_screen, check_weather_screen
from .device import Device, run_firmware

FIRMWARE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def arguments(argv):
    parser = argparse.ArgumentParser(prog="python3 -m sim", description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="the Mars API URL (MarsApiUrl)")
    parser.add_argument("--api-key", required=True, help="the API key (MarsApiKey)")
    parser.add_argument("--png", required=True, help="where to write the screen (PNG, 320x240)")
    parser.add_argument("--cycles", type=int, default=1, help="display cycles to run (default 1)")
    parser.add_argument("--interval-minutes", type=float, default=60, help="interval_minutes of secrets.py")
    parser.add_argument("--time-scale", type=float, default=1.0, help="multiplies the firmware's network timeouts")
    parser.add_argument("--code", default=os.path.join(FIRMWARE_DIR, "code.py"), help="the program to run")
    parser.add_argument("--expect-error", metavar="TEXT", help="the screen must be the error screen mentioning TEXT")
    return parser.parse_args(argv)


def last_json_answer(result):
    for exchange in reversed(result.http):
        if exchange.status == 200 and exchange.headers.get("content-type", "").startswith("application/json"):
            return json.loads(exchange.body_prefix.decode("utf-8"))
    return None


def main(argv):
    args = arguments(argv)
    secrets = {
        "ssid": "simulated-network",
        "password": "simulated-password",
        "mars_api_url": args.url,
        "mars_api_key": args.api_key,
        "interval_minutes": args.interval_minutes,
    }
    with tempfile.TemporaryDirectory(prefix="pyportal-") as drive:
        device = Device(drive, secrets, cycles=args.cycles, time_scale=args.time_scale)
        result = run_firmware(args.code, device)
        cached = os.path.join(drive, "sd", "cache.bmp")
        bmp_bytes = open(cached, "rb").read() if os.path.exists(cached) else None

    report = {"png": os.path.abspath(args.png), "console": result.console, "crash": result.crash, "problems": []}
    if result.crash:
        report["problems"].append("the firmware crashed:\n" + result.crash)
    if not result.screens:
        report["problems"].append("the firmware never finished a cycle")
    else:
        screen = result.screens[-1]
        os.makedirs(os.path.dirname(report["png"]) or ".", exist_ok=True)
        with open(report["png"], "wb") as f:
            f.write(screen.png())
        report["screen"] = [t["text"] for t in screen.texts]
        if args.expect_error is not None:
            report["problems"] += check_error_screen(screen, args.expect_error)
        else:
            answer = last_json_answer(result)
            report["answer"] = answer
            if answer is None:
                report["problems"].append(
                    "the firmware received no JSON answer from %s; the screen shows: %s" % (args.url, " | ".join(report["screen"]))
                )
            else:
                report["problems"] += check_weather_screen(screen, answer, bmp_bytes)
            if bmp_bytes is not None:
                info = bmp.parse(bmp_bytes)
                report["bmp"] = {k: v for k, v in info.as_dict().items() if k != "palette"}
    print(json.dumps(report, indent=1))
    return 0 if not report["problems"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
