//! `tripline fmt`: prints a syntax tree back in the one canonical layout,
//! keeping comments and each literal's spelling.
