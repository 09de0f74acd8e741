"""What the screen must show, checked from the outside: the texts the README promises for the
API's answer ("The screen"), on screen and readable, the photo itself under them, and the
stale marker exactly when the answer is stale."""

from . import bmp
from .device import SCREEN_HEIGHT, SCREEN_WIDTH

#: Points of the photo area (above the text panel) where the screen must show the BMP's pixels.
PHOTO_SAMPLES = [(x, y) for x in range(8, SCREEN_WIDTH, 24) for y in range(24, 176, 19)]


def expected_texts(insight):
    def reading(value, pattern):
        return "--" if value is None else pattern % value

    return [
        "Sol %s" % insight["sol"],
        "Season %s" % insight["season"],
        "Air %s C" % reading(insight["av_at"], "%.1f"),
        "Wind %s m/s" % reading(insight["av_HWS"], "%.1f"),
        "Pressure %s Pa" % reading(insight["av_PRE"], "%.0f"),
        "UTC %s %s - %s %s" % (insight["First_UTC"][:10], insight["First_UTC"][11:16], insight["Last_UTC"][:10], insight["Last_UTC"][11:16]),
    ]


def off_screen(screen):
    return [
        "label %r at (%d, %d) size %dx%d does not fit on the %dx%d screen" % (t["text"], t["x"], t["y"], t["width"], t["height"], SCREEN_WIDTH, SCREEN_HEIGHT)
        for t in screen.texts
        if t["x"] < 0 or t["y"] < 0 or t["x"] + t["width"] > SCREEN_WIDTH or t["y"] + t["height"] > SCREEN_HEIGHT
    ]


def check_weather_screen(screen, answer, bmp_bytes=None):
    """Problems with a screen that should show `answer` (the API's JSON); [] when it is right.
    With `bmp_bytes` (the image the URL served), the photo area must show its pixels."""
    problems = off_screen(screen)
    if screen.find("ERROR"):
        problems.append("the error screen is showing: %s" % screen.text().replace("\n", " | "))
        return problems
    shown = [t["text"] for t in screen.texts]
    for text in expected_texts(answer["insight"]):
        if not any(text in s for s in shown):
            problems.append("%r is not on the screen (labels: %s)" % (text, shown))
    stale_marked = any("STALE" in s for s in shown)
    if stale_marked != bool(answer.get("stale")):
        problems.append("the answer is %s but the screen %s the STALE marker" % ("stale" if answer.get("stale") else "fresh", "shows" if stale_marked else "lacks"))
    if bmp_bytes is not None:
        info = bmp.parse(bmp_bytes)
        wrong = [(x, y) for x, y in PHOTO_SAMPLES if screen.pixel(x, y) != bmp.pixel(info, bmp_bytes, x, y) and not covered(screen, x, y)]
        if wrong:
            problems.append("the photo is not on the screen: %d of %d sampled pixels differ from the BMP, first at %s" % (len(wrong), len(PHOTO_SAMPLES), wrong[0]))
    return problems


def covered(screen, x, y):
    return any(t["x"] <= x < t["x"] + t["width"] and t["y"] <= y < t["y"] + t["height"] for t in screen.texts)


def check_error_screen(screen, fragment=None):
    """Problems with a screen that should be the error screen (mentioning `fragment`)."""
    problems = off_screen(screen)
    text = screen.text()
    if "ERROR" not in text:
        problems.append("the error screen is not showing: %s" % text.replace("\n", " | "))
    elif fragment and fragment not in " ".join(t["text"] for t in screen.texts):
        problems.append("the error screen does not mention %r: %s" % (fragment, text.replace("\n", " | ")))
    if "Retrying in" not in text:
        problems.append("the error screen does not say when it retries")
    return problems
