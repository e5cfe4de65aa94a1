//! `nunchi calendar …`: Korea's public holidays of a year (substitute days included) and
//! lunar ↔ solar conversion, from the same calendar campaign triggers and working hours
//! use.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::Subcommand;
use jiff::civil::Date;
use nunchi_core::calendar::{holidays, lunar};
use serde_json::json;

#[derive(Debug, Subcommand)]
pub enum CalendarCommand {
    /// The public holidays of a year, one line each (or a JSON array with --json).
    Holidays {
        /// ISO 3166 country code; KR is built in.
        #[arg(long, default_value = "KR")]
        country: String,
        #[arg(long)]
        year: i16,
        #[arg(long)]
        json: bool,
    },
    /// Convert a date between the Korean lunar calendar and the solar (Gregorian) one.
    /// `-` in place of the date reads one date per line from standard input.
    Lunar {
        /// A lunar date (YYYY-MM-DD) to convert to solar; --leap for the leap month.
        #[arg(
            long,
            conflicts_with = "to_lunar",
            required_unless_present = "to_lunar"
        )]
        to_solar: Option<String>,
        /// The lunar date given is in the leap month (윤달) of that number.
        #[arg(long, requires = "to_solar")]
        leap: bool,
        /// A solar date (YYYY-MM-DD) to convert to lunar.
        #[arg(long)]
        to_lunar: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: CalendarCommand) -> anyhow::Result<()> {
    match command {
        CalendarCommand::Holidays {
            country,
            year,
            json,
        } => {
            if !country.eq_ignore_ascii_case("KR") {
                bail!("no holiday calendar for {country:?}; KR is built in");
            }
            let days = holidays::korean(year)?;
            let mut out = std::io::stdout().lock();
            if json {
                let rows: Vec<_> = days
                    .iter()
                    .map(|h| {
                        json!({"date": h.date.to_string(), "name_ko": h.name_ko, "name_en": h.name_en})
                    })
                    .collect();
                serde_json::to_writer(&mut out, &rows)?;
                writeln!(out)?;
            } else {
                for h in &days {
                    writeln!(
                        out,
                        "{} {}  {} / {}",
                        h.date,
                        h.date.strftime("%a"),
                        h.name_ko,
                        h.name_en
                    )?;
                }
            }
            Ok(())
        }
        CalendarCommand::Lunar {
            to_solar,
            leap,
            to_lunar,
            json,
        } => {
            let (input, solar_to_lunar) = match (to_solar, to_lunar) {
                (Some(d), None) => (d, false),
                (None, Some(d)) => (d, true),
                _ => bail!("give one of --to-solar or --to-lunar"),
            };
            let convert = |text: &str| -> anyhow::Result<String> {
                let (y, m, d) = parse(text)?;
                Ok(if solar_to_lunar {
                    let date =
                        Date::new(y, m, d).with_context(|| format!("not a date: {text:?}"))?;
                    let l = lunar::to_lunar(date)?;
                    if json {
                        json!({"solar": date.to_string(), "lunar": format!("{:04}-{:02}-{:02}", l.year, l.month, l.day), "leap": l.leap}).to_string()
                    } else {
                        l.to_string()
                    }
                } else {
                    let l = lunar::LunarDate {
                        year: y,
                        month: m,
                        day: d,
                        leap,
                    };
                    let solar = lunar::to_solar(l)?;
                    if json {
                        json!({"lunar": format!("{y:04}-{m:02}-{d:02}"), "leap": leap, "solar": solar.to_string()}).to_string()
                    } else {
                        solar.to_string()
                    }
                })
            };
            let mut out = std::io::stdout().lock();
            if input == "-" {
                for (i, line) in std::io::stdin().lock().lines().enumerate() {
                    let line = line?;
                    if line.trim().is_empty() {
                        continue;
                    }
                    let answer = convert(&line).with_context(|| format!("line {}", i + 1))?;
                    writeln!(out, "{answer}")?;
                }
            } else {
                writeln!(out, "{}", convert(&input)?)?;
            }
            Ok(())
        }
    }
}

/// A date's parts as written; a lunar date need not exist in the solar calendar (lunar
/// 2-30), so the parts are checked by the calendar they belong to.
fn parse(text: &str) -> anyhow::Result<(i16, i8, i8)> {
    let text = text.trim();
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        bail!("not a date (YYYY-MM-DD): {text:?}");
    };
    let (y, m, d): (i16, i8, i8) = (
        y.parse().with_context(|| format!("not a year: {text:?}"))?,
        m.parse()
            .with_context(|| format!("not a month: {text:?}"))?,
        d.parse().with_context(|| format!("not a day: {text:?}"))?,
    );
    Ok((y, m, d))
}
