//! The two astronomical moments a lunisolar calendar is built from: new moons (Meeus,
//! *Astronomical Algorithms*, ch. 49, with the planetary terms) and the moments the Sun's
//! apparent longitude reaches a given angle (ch. 25 with the main nutation terms), as
//! Julian Days in Universal Time (ΔT by the Espenak–Meeus polynomials).

use std::f64::consts::PI;

/// Julian Day of 1970-01-01T00:00Z.
pub const UNIX_EPOCH_JD: f64 = 2_440_587.5;
const J2000: f64 = 2_451_545.0;
const MEAN_LUNATION: f64 = 29.530_588_861;
const TROPICAL_YEAR: f64 = 365.242_189;

fn sin_deg(x: f64) -> f64 {
    (x * PI / 180.0).sin()
}

fn cos_deg(x: f64) -> f64 {
    (x * PI / 180.0).cos()
}

fn normalize(deg: f64) -> f64 {
    deg.rem_euclid(360.0)
}

/// ΔT = TT − UT in seconds for a decimal year (Espenak and Meeus, NASA eclipse tables).
pub fn delta_t_seconds(year: f64) -> f64 {
    let y = year;
    if y < 1900.0 {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u
    } else if y < 1920.0 {
        let t = y - 1900.0;
        -2.79 + 1.494_119 * t - 0.059_893_9 * t.powi(2) + 0.006_196_6 * t.powi(3)
            - 0.000_197 * t.powi(4)
    } else if y < 1941.0 {
        let t = y - 1920.0;
        21.20 + 0.844_93 * t - 0.076_100 * t.powi(2) + 0.002_093_6 * t.powi(3)
    } else if y < 1961.0 {
        let t = y - 1950.0;
        29.07 + 0.407 * t - t.powi(2) / 233.0 + t.powi(3) / 2547.0
    } else if y < 1986.0 {
        let t = y - 1975.0;
        45.45 + 1.067 * t - t.powi(2) / 260.0 - t.powi(3) / 718.0
    } else if y < 2005.0 {
        let t = y - 2000.0;
        63.86 + 0.3345 * t - 0.060_374 * t.powi(2)
            + 0.001_727_5 * t.powi(3)
            + 0.000_651_814 * t.powi(4)
            + 0.000_023_735_99 * t.powi(5)
    } else if y < 2050.0 {
        let t = y - 2000.0;
        62.92 + 0.322_17 * t + 0.005_589 * t.powi(2)
    } else if y < 2150.0 {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u - 0.5628 * (2150.0 - y)
    } else {
        let u = (y - 1820.0) / 100.0;
        -20.0 + 32.0 * u * u
    }
}

fn tt_to_ut(jde: f64) -> f64 {
    let year = 2000.0 + (jde - J2000) / 365.25;
    jde - delta_t_seconds(year) / 86_400.0
}

/// The moment of new moon number `k` (k = 0 is the one of 2000-01-06), as a Julian Day in UT.
pub fn new_moon(k: i64) -> f64 {
    let k = k as f64;
    let t = k / 1236.85;
    let (t2, t3, t4) = (t * t, t * t * t, t * t * t * t);
    let jde = 2_451_550.097_66 + MEAN_LUNATION * k + 0.000_154_37 * t2 - 0.000_000_150 * t3
        + 0.000_000_000_73 * t4;
    let e = 1.0 - 0.002_516 * t - 0.000_007_4 * t2;
    let m = 2.5534 + 29.105_356_70 * k - 0.000_001_4 * t2 - 0.000_000_11 * t3;
    let mp =
        201.5643 + 385.816_935_28 * k + 0.010_758_2 * t2 + 0.000_012_38 * t3 - 0.000_000_058 * t4;
    let f =
        160.7108 + 390.670_502_84 * k - 0.001_611_8 * t2 - 0.000_002_27 * t3 + 0.000_000_011 * t4;
    let om = 124.7746 - 1.563_755_88 * k + 0.002_067_2 * t2 + 0.000_002_15 * t3;
    let s = sin_deg;
    let periodic = -0.40720 * s(mp)
        + 0.17241 * e * s(m)
        + 0.01608 * s(2.0 * mp)
        + 0.01039 * s(2.0 * f)
        + 0.00739 * e * s(mp - m)
        - 0.00514 * e * s(mp + m)
        + 0.00208 * e * e * s(2.0 * m)
        - 0.00111 * s(mp - 2.0 * f)
        - 0.00057 * s(mp + 2.0 * f)
        + 0.00056 * e * s(2.0 * mp + m)
        - 0.00042 * s(3.0 * mp)
        + 0.00042 * e * s(m + 2.0 * f)
        + 0.00038 * e * s(m - 2.0 * f)
        - 0.00024 * e * s(2.0 * mp - m)
        - 0.00017 * s(om)
        - 0.00007 * s(mp + 2.0 * m)
        + 0.00004 * s(2.0 * mp - 2.0 * f)
        + 0.00004 * s(3.0 * m)
        + 0.00003 * s(mp + m - 2.0 * f)
        + 0.00003 * s(2.0 * mp + 2.0 * f)
        - 0.00003 * s(mp + m + 2.0 * f)
        + 0.00003 * s(mp - m + 2.0 * f)
        - 0.00002 * s(mp - m - 2.0 * f)
        - 0.00002 * s(3.0 * mp + m)
        + 0.00002 * s(4.0 * mp);
    const PLANETARY: [(f64, f64, f64); 14] = [
        (299.77, 0.107_408, 0.000_325),
        (251.88, 0.016_321, 0.000_165),
        (251.83, 26.651_886, 0.000_164),
        (349.42, 36.412_478, 0.000_126),
        (84.66, 18.206_239, 0.000_110),
        (141.74, 53.303_771, 0.000_062),
        (207.14, 2.453_732, 0.000_060),
        (154.84, 7.306_860, 0.000_056),
        (34.52, 27.261_239, 0.000_047),
        (207.19, 0.121_824, 0.000_042),
        (291.34, 1.844_379, 0.000_040),
        (161.72, 24.198_154, 0.000_037),
        (239.56, 25.513_099, 0.000_035),
        (331.55, 3.592_518, 0.000_023),
    ];
    let planetary: f64 = PLANETARY
        .iter()
        .enumerate()
        .map(|(i, &(a, b, c))| {
            let arg = a + b * k - if i == 0 { 0.009_173 * t2 } else { 0.0 };
            c * s(arg)
        })
        .sum();
    tt_to_ut(jde + periodic + planetary)
}

/// The number of the last new moon at or before `jd_ut`.
pub fn new_moon_at_or_before(jd_ut: f64) -> i64 {
    let mut k = ((jd_ut - 2_451_550.097_66) / MEAN_LUNATION).floor() as i64;
    while new_moon(k + 1) <= jd_ut {
        k += 1;
    }
    while new_moon(k) > jd_ut {
        k -= 1;
    }
    k
}

/// The Sun's apparent geocentric longitude in degrees at a Julian Ephemeris Day.
fn apparent_solar_longitude(jde: f64) -> f64 {
    let t = (jde - J2000) / 36_525.0;
    let l0 = 280.466_46 + 36_000.769_83 * t + 0.000_303_2 * t * t;
    let m = 357.529_11 + 35_999.050_29 * t - 0.000_153_7 * t * t;
    let c = (1.914_602 - 0.004_817 * t - 0.000_014 * t * t) * sin_deg(m)
        + (0.019_993 - 0.000_101 * t) * sin_deg(2.0 * m)
        + 0.000_289 * sin_deg(3.0 * m);
    let true_longitude = l0 + c;
    // Nutation in longitude (the four largest terms of IAU 1980) and aberration.
    let om = 125.044_52 - 1_934.136_261 * t;
    let l_sun = 280.4665 + 36_000.769_8 * t;
    let l_moon = 218.3165 + 481_267.881_3 * t;
    let nutation =
        (-17.20 * sin_deg(om) - 1.32 * sin_deg(2.0 * l_sun) - 0.23 * sin_deg(2.0 * l_moon)
            + 0.21 * sin_deg(2.0 * om))
            / 3600.0;
    let aberration = -20.4898 / 3600.0 / (1.000_001_018 * (1.0 - 0.016_708_634 * cos_deg(m)));
    normalize(true_longitude + nutation + aberration)
}

/// The Sun's apparent longitude in degrees at a moment (Julian Day, UT).
pub fn solar_longitude(jd_ut: f64) -> f64 {
    let year = 2000.0 + (jd_ut - J2000) / 365.25;
    apparent_solar_longitude(jd_ut + delta_t_seconds(year) / 86_400.0)
}

/// The moment (Julian Day, UT) near `around_jd` when the Sun's apparent longitude is
/// `degrees`; `around_jd` must lie within a few weeks of it.
pub fn solar_longitude_moment(degrees: f64, around_jd: f64) -> f64 {
    let mut jde = around_jd;
    for _ in 0..50 {
        let diff = ((degrees - apparent_solar_longitude(jde) + 540.0).rem_euclid(360.0)) - 180.0;
        let step = diff * TROPICAL_YEAR / 360.0;
        jde += step;
        if step.abs() < 1e-7 {
            break;
        }
    }
    tt_to_ut(jde)
}

/// The December solstice (longitude 270°) of a Gregorian year, as a Julian Day in UT.
pub fn december_solstice(year: i32) -> f64 {
    // 21 December of the year, roughly.
    let guess = J2000 + (f64::from(year) - 2000.0) * TROPICAL_YEAR + 355.0;
    solar_longitude_moment(270.0, guess)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_new_moon_and_solstice() {
        // Meeus example 49.a: the new moon of 1977 February 18, 3h37m42s TT.
        let jd = new_moon(-283);
        assert!(
            (jd + delta_t_seconds(1977.13) / 86_400.0 - 2_443_192.651_18).abs() < 1e-4,
            "{jd}"
        );
        // The December solstice of 2024: 21 Dec 09:20 UT (JD 2460665.889).
        let ws = december_solstice(2024);
        assert!((ws - 2_460_665.889).abs() < 0.01, "{ws}");
    }
}
