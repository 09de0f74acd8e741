# Settings of the Mars weather display. Fill in, then copy this file to the CIRCUITPY drive
# next to code.py. Keep it private: it holds your Wi-Fi password and the API key.
# mars_api_url and mars_api_key are the MarsApiUrl and MarsApiKey outputs of the platform's
# regional stack: `terraform output -raw MarsApiUrl`, `terraform output -raw MarsApiKey`.
secrets = {
    "ssid": "your Wi-Fi network",
    "password": "your Wi-Fi password",
    "mars_api_url": "https://<api id>.execute-api.<region>.amazonaws.com/prod/mars",
    "mars_api_key": "<MarsApiKey>",
    "interval_minutes": 60,
}
