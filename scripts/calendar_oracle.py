"""The reference calendars nunchi's own is checked against, printed as lines a test reads.

  python3 scripts/calendar_oracle.py holidays FIRST LAST  -> date<TAB>name_ko<TAB>name_en
  python3 scripts/calendar_oracle.py lunar FIRST LAST     -> solar<TAB>lunar<TAB>leap(0/1)

`holidays` (PyPI) gives Korea's public holidays, one line per date with its names joined
by "; " as the package joins them; `korean-lunar-calendar` (PyPI, KASI's tables) gives
the lunar date of every solar day from 1 January FIRST to 31 December LAST."""
import datetime
import sys


def holiday_lines(first, last):
    import holidays

    en = holidays.KR(years=range(first, last + 1), language="en_US")
    ko = holidays.KR(years=range(first, last + 1), language="ko")
    for day in sorted(en):
        print(f"{day.isoformat()}\t{ko[day]}\t{en[day]}")


def lunar_lines(first, last):
    from korean_lunar_calendar import KoreanLunarCalendar

    calendar = KoreanLunarCalendar()
    day = datetime.date(first, 1, 1)
    end = datetime.date(last, 12, 31)
    out = []
    while day <= end:
        calendar.setSolarDate(day.year, day.month, day.day)
        leap = 1 if calendar.isIntercalation else 0
        out.append(
            f"{day.isoformat()}\t{calendar.lunarYear:04d}-{calendar.lunarMonth:02d}-{calendar.lunarDay:02d}\t{leap}"
        )
        day += datetime.timedelta(days=1)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    kind, first, last = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    {"holidays": holiday_lines, "lunar": lunar_lines}[kind](first, last)
