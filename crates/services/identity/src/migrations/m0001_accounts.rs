//! Customers, staff, sessions, one-time tokens and addresses.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_accounts"
    }
}

fn index(name: &str, table: &'static str, cols: &[&'static str]) -> IndexCreateStatement {
    let mut idx = Index::create();
    idx.name(name).table(table);
    for c in cols {
        idx.col(*c);
    }
    idx.to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            Table::create()
                .table("customers")
                .col(uuid("id").primary_key())
                .col(string("email").unique_key())
                .col(string("name"))
                .col(string("password_hash"))
                .col(boolean("email_verified"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_table(
            Table::create()
                .table("staff")
                .col(uuid("id").primary_key())
                .col(string("email").unique_key())
                .col(string("name"))
                .col(string("role"))
                .col(string("password_hash"))
                .col(boolean("is_bootstrap"))
                .col(timestamp_with_time_zone_null("disabled_at"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        // A session is a refresh-token family: every rotation stays in it, and revoking
        // it ends them all.
        m.create_table(
            Table::create()
                .table("sessions")
                .col(uuid("id").primary_key())
                .col(string("account_kind"))
                .col(uuid("account_id"))
                .col(boolean("remember_me"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("revoked_at"))
                .col(string_null("revoked_reason"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "sessions_account",
            "sessions",
            &["account_kind", "account_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("refresh_tokens")
                .col(string("token_hash").primary_key())
                .col(uuid("session_id"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone_null("spent_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "refresh_tokens_session",
            "refresh_tokens",
            &["session_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("email_verifications")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(string("email"))
                .col(string("purpose"))
                .col(string("token_hash").unique_key())
                .col(string("code_hash"))
                .col(integer("failed_attempts"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("consumed_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "email_verifications_email",
            "email_verifications",
            &["email"],
        ))
        .await?;
        m.create_index(index(
            "email_verifications_customer",
            "email_verifications",
            &["customer_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("password_resets")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(string("token_hash").unique_key())
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("expires_at"))
                .col(timestamp_with_time_zone_null("used_at"))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "password_resets_customer",
            "password_resets",
            &["customer_id"],
        ))
        .await?;
        m.create_table(
            Table::create()
                .table("addresses")
                .col(uuid("id").primary_key())
                .col(uuid("customer_id"))
                .col(string("label"))
                .col(string("recipient_name"))
                .col(string("phone"))
                .col(string("line1"))
                .col(string_null("line2"))
                .col(string("city"))
                .col(string_null("region"))
                .col(string("postal_code"))
                .col(string("country"))
                .col(text_null("note"))
                .col(timestamp_with_time_zone("created_at"))
                .col(timestamp_with_time_zone("updated_at"))
                .col(big_integer("version"))
                .to_owned(),
        )
        .await?;
        m.create_index(index("addresses_customer", "addresses", &["customer_id"]))
            .await?;
        Ok(())
    }

    async fn down(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in [
            "audit_log",
            "addresses",
            "password_resets",
            "email_verifications",
            "refresh_tokens",
            "sessions",
            "staff",
            "customers",
        ] {
            m.drop_table(Table::drop().table(t).to_owned()).await?;
        }
        Ok(())
    }
}
