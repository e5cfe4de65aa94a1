"""Sends identify, track and page calls through Segment's own Python SDK
(segment-analytics-python) to a nunchi server, flushes, then reads back through nunchi's
API what arrived. Prints one JSON object for the calling test to check.

Usage: segment_sdk_check.py BASE_URL WRITE_KEY API_TOKEN
"""
import json
import sys
import urllib.request

import segment.analytics as analytics


def api(base, token, path):
    req = urllib.request.Request(base + path, headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)


def main():
    base, write_key, token = sys.argv[1].rstrip("/"), sys.argv[2], sys.argv[3]
    failures = []
    analytics.write_key = write_key
    analytics.host = base
    analytics.sync_mode = True
    analytics.on_error = lambda error, items: failures.append(str(error))
    # Anonymous browsing first, then sign-up: identify stitches the two.
    analytics.page(anonymous_id="sdk-anon-1", name="Home", properties={"path": "/"})
    analytics.track(anonymous_id="sdk-anon-1", event="view_product", properties={"sku": "SERUM-30"})
    analytics.identify("SDK-USER-1", {"email": "sdk.user@example.com", "name": "Segment SDK User"},
                       anonymous_id="sdk-anon-1")
    analytics.track("SDK-USER-1", "purchase", {"total": 42000, "currency": "KRW"})
    analytics.flush()
    customer = api(base, token, "/api/v1/customers/lookup?kind=external_id&value=SDK-USER-1")
    events = api(base, token, f"/api/v1/customers/{customer['id']}/events")
    funnel = api(base, token, "/api/v1/analytics/funnel?steps=page_view,view_product,purchase&window=1h")
    print(json.dumps({
        "failures": failures,
        "customer": customer["id"],
        "events": [{"name": e["name"], "kind": e["kind"], "channel": e["channel"],
                    "user_id": e["user_id"], "anonymous_id": e["anonymous_id"],
                    "library": json.loads(e["context"]).get("library", {}).get("name")} for e in events],
        "funnel": [s["customers"] for s in funnel["steps"]],
    }))


if __name__ == "__main__":
    main()
