"""firmware/code.py on the simulated PyPortal against a real HTTP server: what the screen shows
for the API's answer, the stale marker, and an error screen with a retry (never a crash) for
each way the network, the API, the image or the device can fail."""

import os
import re
import unittest

from sim.check import check_error_screen, check_weather_screen

from .support import API_KEY, CODE_PY, FIRMWARE_DIR, INSIGHT, Drive, MarsApi, make_bmp, run, secrets_for


class FirmwareTest(unittest.TestCase):
    def setUp(self):
        self.api = MarsApi()
        self.drive = Drive()
        self.addCleanup(self.api.close)
        self.addCleanup(self.drive.close)

    def assertRan(self, result):
        self.assertIsNone(result.crash, "the firmware crashed")
        self.assertTrue(result.ended)

    def test_shows_the_weather_and_the_photo_from_the_answer(self):
        result = run(self.drive, secrets_for(self.api))
        self.assertRan(result)
        screen = result.screens[0]
        self.assertEqual(check_weather_screen(screen, self.api.answer, self.api.image), [])
        for text in ("Sol 4321", "Air -43.5 C", "Wind 6.2 m/s", "Pressure 745 Pa", "Season Month 5", "UTC 2025-03-01 08:03 - 2025-03-02 08:43"):
            self.assertTrue(screen.find(text), "%r missing from %s" % (text, screen.text()))
        self.assertFalse(screen.find("STALE"))
        self.assertEqual(screen.sleep_seconds, 30 * 60, "sleeps interval_minutes")

    def test_calls_the_api_with_the_key_and_a_30_second_timeout(self):
        result = run(self.drive, secrets_for(self.api))
        self.assertRan(result)
        api_call, image_call = result.http
        self.assertEqual(api_call.url, self.api.url)
        self.assertEqual(api_call.request_headers["x-api-key"], API_KEY)
        self.assertEqual(api_call.timeout, 30)
        self.assertTrue(image_call.url.startswith("http://127.0.0.1:%d/image.bmp" % self.api.port))
        self.assertEqual(image_call.timeout, 30)
        with open(os.path.join(self.drive.path, "sd", "cache.bmp"), "rb") as f:
            self.assertEqual(f.read(), self.api.image, "the BMP is kept on the SD card as /sd/cache.bmp")

    def test_marks_a_stale_answer(self):
        self.api.answer["stale"] = True
        screen = run(self.drive, secrets_for(self.api)).screens[0]
        self.assertEqual(check_weather_screen(screen, self.api.answer, self.api.image), [])
        (marker,) = screen.find("STALE")
        self.assertGreaterEqual(marker["x"], 0)
        self.assertLessEqual(marker["x"] + marker["width"], 320)

    def test_shows_missing_readings_as_dashes(self):
        self.api.answer["insight"] = dict(INSIGHT, av_HWS=None, av_PRE=None)
        screen = run(self.drive, secrets_for(self.api)).screens[0]
        self.assertTrue(screen.find("Wind -- m/s"))
        self.assertTrue(screen.find("Pressure -- Pa"))
        self.assertEqual(check_weather_screen(screen, self.api.answer, self.api.image), [])

    def assertErrorThenRecovers(self, fragment, fix, **device_options):
        """The first cycle must show the error screen and wait RETRY_SECONDS; after `fix` the
        retry must show the weather."""
        result = run(self.drive, secrets_for(self.api), cycles=2, between=lambda done: fix() if done == 0 else None, **device_options)
        self.assertRan(result)
        failed, retried = result.screens
        self.assertEqual(check_error_screen(failed, fragment), [])
        self.assertEqual(failed.sleep_seconds, 60, "retries after 60 s, not after the full interval")
        self.assertEqual(check_weather_screen(retried, self.api.answer, self.api.image), [])
        return failed

    def test_403_shows_the_error_screen_and_retries(self):
        def fix():
            self.api.status = 200

        self.api.status = 403
        screen = self.assertErrorThenRecovers("HTTP 403", fix)
        self.assertIn("mars_api_key", screen.text())

    def test_a_wrong_key_is_refused_and_named(self):
        result = run(self.drive, secrets_for(self.api, mars_api_key="wrong-key"))
        self.assertRan(result)
        self.assertEqual(check_error_screen(result.screens[0], "refused the API key"), [])

    def test_429_says_over_quota(self):
        self.api.status = 429
        self.assertErrorThenRecovers("quota", lambda: setattr(self.api, "status", 200))

    def test_500_shows_the_error_screen_and_retries(self):
        self.api.status = 500
        self.assertErrorThenRecovers("HTTP 500", lambda: setattr(self.api, "status", 200))

    def test_a_timeout_shows_the_error_screen_and_retries(self):
        # time_scale 0.02: the firmware's 30 s timeout lasts 0.6 s here; the API answers after 1.5 s.
        self.api.api_delay = 1.5
        self.assertErrorThenRecovers("did not answer within 30 s", lambda: setattr(self.api, "api_delay", 0))

    def test_broken_bmps_show_the_error_screen_and_retry(self):
        broken = {
            "truncated": (make_bmp(truncate=5000), "damaged"),
            "RLE": (make_bmp(bits=8, header_size=40, compression=1, palette=[0, 0xFFFFFF]), "RLE"),
            "top-down": (make_bmp(top_down=True), "top-down"),
            "core header": (make_bmp(header_size=12, compression=0), "BITMAPCOREHEADER"),
            "masks outside the header": (make_bmp(header_size=40), "BITFIELDS"),
            "wrong size": (make_bmp(width=160, height=120), "160x120"),
            "not a BMP": (b"<html>not an image</html>", "not a BMP"),
        }
        good = self.api.image
        for name, (body, fragment) in broken.items():
            with self.subTest(name):
                self.api.image = body
                drive = Drive()
                try:
                    result = run(drive, secrets_for(self.api), cycles=2, between=lambda done: setattr(self.api, "image", good))
                finally:
                    drive.close()
                self.assertRan(result)
                self.assertEqual(check_error_screen(result.screens[0], fragment), [])
                self.assertEqual(check_weather_screen(result.screens[1], self.api.answer, good), [])

    def test_a_download_cut_off_midway_is_retried_then_reported(self):
        self.api.image_declared_length = len(self.api.image) + 1000
        result = run(self.drive, secrets_for(self.api))
        self.assertRan(result)
        self.assertEqual(check_error_screen(result.screens[0], "stopped at"), [])
        self.assertEqual(sum(1 for path, _ in self.api.requests if path.startswith("/image.bmp")), 3, "three download attempts")

    def test_an_expired_image_url_is_reported(self):
        self.api.image_status = 403
        result = run(self.drive, secrets_for(self.api))
        self.assertRan(result)
        self.assertEqual(check_error_screen(result.screens[0], "The image download answered HTTP 403"), [])

    def test_bad_json_and_missing_fields_are_reported(self):
        for body, fragment in ((b"<html>", "did not answer JSON"), (b'{"insight": {}}', "image_url"), (b'{"image_url": "http://x/y.bmp", "insight": {"sol": "1"}}', "insight.av_at")):
            with self.subTest(fragment):
                self.api.raw_body = body
                result = run(self.drive, secrets_for(self.api))
                self.assertRan(result)
                self.assertEqual(check_error_screen(result.screens[0], fragment), [])

    def test_no_wifi_no_sd_card_and_no_secrets_are_reported(self):
        cases = (
            ("cannot join Wi-Fi", secrets_for(self.api), dict(wifi_ok=False)),
            ("insert a microSD card", secrets_for(self.api), dict(sd_card=False)),
            ("secrets.py is missing", None, {}),
            ("secrets.py lacks mars_api_key", secrets_for(self.api, mars_api_key=""), {}),
        )
        for fragment, secrets, options in cases:
            with self.subTest(fragment):
                result = run(self.drive, secrets, **options)
                self.assertRan(result)
                self.assertEqual(check_error_screen(result.screens[0], fragment), [])

    def test_keeps_running_cycle_after_cycle(self):
        answers = [dict(INSIGHT, sol=str(100 + n)) for n in range(3)]

        def next_answer(done):
            if done + 1 < len(answers):
                self.api.answer = {"insight": answers[done + 1], "stale": done == 1}

        self.api.answer = {"insight": answers[0], "stale": False}
        result = run(self.drive, secrets_for(self.api), cycles=3, between=next_answer)
        self.assertRan(result)
        for n, screen in enumerate(result.screens):
            self.assertTrue(screen.find("Sol %d" % (100 + n)), screen.text())
            self.assertEqual(bool(screen.find("STALE")), n == 2)


class SecretsTemplateTest(unittest.TestCase):
    def test_the_template_has_every_setting_code_py_reads(self):
        namespace = {}
        with open(os.path.join(FIRMWARE_DIR, "secrets.py")) as f:
            exec(f.read(), namespace)
        with open(CODE_PY) as f:
            required = re.search(r"REQUIRED_SECRETS = \(([^)]*)\)", f.read()).group(1)
        names = re.findall(r'"([a-z_]+)"', required)
        self.assertEqual(sorted(names), sorted(namespace["secrets"]))
        self.assertEqual(sorted(names), ["interval_minutes", "mars_api_key", "mars_api_url", "password", "ssid"])


if __name__ == "__main__":
    unittest.main()
