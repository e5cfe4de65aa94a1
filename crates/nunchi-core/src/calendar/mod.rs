//! Calendars campaigns and working hours run on: the Korean lunisolar calendar computed
//! from the sky, and Korea's public holidays computed from the laws that set them.

pub mod astro;
pub mod holidays;
pub mod lunar;
