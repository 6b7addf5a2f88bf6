//! IR to the documents each SIEM loads. One module per target; what the
//! SIEM loads around a query (YAML, .conf stanzas, Markdown) comes from the
//! minijinja templates of the target's folder (`folder`), and the query
//! itself from the target's expression writer.

pub mod folder;
pub mod templates;
