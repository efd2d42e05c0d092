//! The demo tenant's knowledge base, alerts and on-call setup (`seed-demo`), kept as SQL files beside
//! this module so they read as SQL.

use sqlx::PgConnection;

const KNOWLEDGE: &str = include_str!("demo/knowledge.sql");
const ONCALL: &str = include_str!("demo/oncall.sql");

/// Loads the demo data into the tenant of the transaction (runbook templates must exist: they are
/// part of the tenant migrations).
pub async fn load(conn: &mut PgConnection) -> Result<(), sqlx::Error> {
    sqlx::query(KNOWLEDGE).execute(&mut *conn).await?;
    // A prepared statement holds one command, so the on-call script runs statement by statement.
    for statement in ONCALL.split(";\n").filter(|s| !s.trim().is_empty()) {
        sqlx::query(statement).execute(&mut *conn).await?;
    }
    Ok(())
}
