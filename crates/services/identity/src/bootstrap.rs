//! Making staff from the command line: how the first admin comes to exist.

use contracts::claims::StaffRole;
use contracts::identity::StaffCreated;
use platform::clock::Clock;
use platform::unit::UnitOfWork;
use platform::validate::{Fields, parse_email};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use crate::domain::password::{Hasher, Password};
use crate::store::accounts::{self, NewStaff, StaffMember};

/// Creates a staff member. The first admin made this way is the bootstrap admin, who
/// cannot be disabled (so the shop can never lock out every admin). The creation event
/// waits in the outbox until the service next runs.
pub async fn create_staff(
    db: &DatabaseConnection,
    clock: &dyn Clock,
    email: &str,
    name: &str,
    role: &str,
    raw_password: &str,
) -> anyhow::Result<Uuid> {
    let mut f = Fields::new();
    let email = f.parse("email", parse_email(email));
    let name = f.text("name", name, 1, 100);
    let role = f.parse(
        "role",
        StaffRole::parse(role).ok_or_else(|| "must be one of admin, inventory, finance".to_owned()),
    );
    let pw = f.parse(
        "password",
        Password::parse(
            raw_password.trim_end_matches(['\r', '\n']),
            email.as_deref().unwrap_or_default(),
            name.as_deref().unwrap_or_default(),
        ),
    );
    if let Err(platform::ApiError::Validation(errors)) = f.finish() {
        let msgs: Vec<String> = errors
            .iter()
            .map(|e| format!("{} {}", e.field, e.message))
            .collect();
        anyhow::bail!("{}", msgs.join("; "));
    }
    let (Some(email), Some(name), Some(role), Some(pw)) = (email, name, role, pw) else {
        anyhow::bail!("invalid input")
    };
    let hash = Hasher::new(1, 0).hash(&pw).await?;
    let work = UnitOfWork::begin(db, clock.now(), None).await?;
    if accounts::staff_by_email(&work, &email).await?.is_some() {
        anyhow::bail!("a staff account with email {email} already exists");
    }
    let is_bootstrap = role == StaffRole::Admin && !accounts::any_bootstrap_admin(&work).await?;
    let new = NewStaff {
        email: &email,
        name: &name,
        role,
        password_hash: &hash,
        is_bootstrap,
    };
    let member = add_staff(&work, new).await?;
    work.commit().await?;
    Ok(member.id)
}

/// Inserts a staff member and announces it, in the caller's unit of work. Shared by the
/// command line and the admin API so both publish the same event.
pub(crate) async fn add_staff(work: &UnitOfWork, new: NewStaff<'_>) -> Result<StaffMember, DbErr> {
    let member = accounts::insert_staff(work, new, work.now()).await?;
    let event = StaffCreated {
        staff_id: member.id,
        email: member.email.clone(),
        name: member.name.clone(),
        role: member.role,
    };
    work.emit(&event, member.version).await?;
    Ok(member)
}
