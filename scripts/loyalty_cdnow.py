"""Turns CDNOW_master.txt into nunchi's order CSV with injected refunds, and prints the
points nunchi must come to at 1 point per whole dollar (floor per purchase), reversed in
proportion to each refund (floor of earned x refunded / total), as JSON.
Usage: loyalty_cdnow.py CDNOW_master.txt orders.csv > expected.json"""
import csv
import json
import sys
from decimal import Decimal

src, out = sys.argv[1], sys.argv[2]
purchases = []
for line in open(src):
    parts = line.split()
    if len(parts) != 4 or not parts[0].isdigit():
        continue  # the header, blank lines
    customer, date, _cds, value = parts
    purchases.append((customer, date, Decimal(value)))

earned = reversed_ = 0
seq = {}
with open(out, "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["order_id", "customer_external_id", "placed_at", "status", "currency",
                "product", "category", "unit_price", "quantity", "refunded"])
    for i, (customer, date, value) in enumerate(purchases, start=1):
        n = seq[customer] = seq.get(customer, 0) + 1
        cents = int(value * 100)
        if cents <= 0:
            refunded = 0
        elif i % 50 == 0:
            refunded = cents
        elif i % 20 == 0:
            refunded = cents // 2
        else:
            refunded = 0
        placed = f"{date[:4]}-{date[4:6]}-{date[6:]}T12:00:00Z"
        w.writerow([f"CD-{customer}-{n:03}", f"CD-{customer}", placed,
                    "refunded" if refunded == cents and refunded > 0 else "delivered", "USD",
                    "CDs", "music", f"{value:.2f}", 1,
                    f"{Decimal(refunded) / 100:.2f}" if refunded else ""])
        points = cents // 100
        earned += points
        if cents > 0 and refunded:
            reversed_ += points * refunded // cents
print(json.dumps({"purchases": len(purchases), "customers": len(seq),
                  "earned": earned, "reversed": reversed_}))
