//! Personas as stored: the story in Korean and English, the segment of the customers it is
//! about, and whether a photo is held (the photo's bytes are read on their own).

use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct Persona {
    pub id: i64,
    pub segment_id: Option<i64>,
    pub name_ko: String,
    pub name_en: String,
    pub goals_ko: String,
    pub goals_en: String,
    pub pains_ko: String,
    pub pains_en: String,
    pub quote_ko: String,
    pub quote_en: String,
    /// Channel keys the story says they prefer, comma-separated.
    pub channels: String,
    pub has_photo: bool,
    pub created_by: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A persona's story to save (validated by the caller).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonaStory {
    pub segment_id: Option<i64>,
    pub name_ko: String,
    pub name_en: String,
    pub goals_ko: String,
    pub goals_en: String,
    pub pains_ko: String,
    pub pains_en: String,
    pub quote_ko: String,
    pub quote_en: String,
    pub channels: String,
}
