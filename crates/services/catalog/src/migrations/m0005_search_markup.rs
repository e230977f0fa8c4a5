//! PostgreSQL's text-search parser reads `<…>` as markup and drops what it encloses, so
//! a product named `<b>Bold</b> mug` could not be found by "bold". The search column is
//! rebuilt from the text with angle brackets read as spaces. (SQLite's FTS5 tokenizer
//! has no such rule; nothing changes there.)

use sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_search_markup"
    }
}

const COLUMN: &str = "ALTER TABLE products ADD COLUMN search tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('english', translate(coalesce(name, ''), '<>', '  ')), 'A') ||
    setweight(to_tsvector('english', translate(coalesce(description, ''), '<>', '  ')), 'B')) STORED";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let db = m.get_connection();
        if db.get_database_backend() != DbBackend::Postgres {
            return Ok(());
        }
        db.execute_unprepared("DROP INDEX IF EXISTS products_search")
            .await?;
        db.execute_unprepared("ALTER TABLE products DROP COLUMN search")
            .await?;
        db.execute_unprepared(COLUMN).await?;
        db.execute_unprepared("CREATE INDEX products_search ON products USING GIN (search)")
            .await?;
        Ok(())
    }
}
