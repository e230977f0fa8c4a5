//! Staff accounts in the dashboard over HTTP, for admins only: the list a page at a
//! time, a new member with the API's messages beside the fields, a new role, a new
//! password, disabling (refused, with the reason, for the bootstrap admin and for
//! oneself), the refusal page for other roles, and cross-site posts refused.

use serde_json::Value;
use testkit::pages::{Browser, Page};
use testkit::{Backend, STAFF_PASSWORD, TestApp, unique};

use crate::shop as open_shop;

testkit::backend_tests!(
    an_admin_creates_a_staff_member_who_is_listed_and_signs_in,
    the_staff_list_is_paged_with_the_apis_cursor,
    a_bad_email_and_a_short_password_are_told_beside_their_fields,
    an_admin_changes_a_role_resets_a_password_and_disables_a_member,
    the_bootstrap_admin_cannot_be_disabled_and_the_page_says_why,
    other_roles_get_the_refusal_page_and_no_staff_link,
    a_staff_form_posted_from_another_site_is_refused,
);

const STAFF_LINK: &str = "href=\"/admin/staff\"";

#[track_caller]
fn assert_lacks(page: &Page, text: &str) {
    assert!(
        !page.html.contains(text),
        "the page shows {text:?}: {:.3000}",
        page.html
    );
}

/// Every staff account, as the API lists them to an admin.
async fn members(app: &TestApp, admin_token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor = String::new();
    loop {
        let res = app
            .get(
                &format!("/api/v1/staff?limit=100&cursor={cursor}"),
                Some(admin_token),
            )
            .await;
        res.assert_status(200);
        all.extend(res.body["items"].as_array().cloned().unwrap_or_default());
        match res.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return all,
        }
    }
}

async fn member(app: &TestApp, admin_token: &str, email: &str) -> Option<Value> {
    members(app, admin_token)
        .await
        .into_iter()
        .find(|m| m["email"] == email)
}

async fn id_of(app: &TestApp, admin_token: &str, email: &str) -> String {
    let m = member(app, admin_token, email)
        .await
        .unwrap_or_else(|| panic!("no staff member {email}"));
    m["id"].as_str().expect("id").to_owned()
}

/// The new-member form as an admin fills it in.
fn new_member<'a>(
    email: &'a str,
    name: &'a str,
    role: &'a str,
    password: &'a str,
) -> [(&'static str, &'a str); 4] {
    [
        ("email", email),
        ("name", name),
        ("role", role),
        ("password", password),
    ]
}

/// Signs `email` in to the dashboard in a browser of its own; the sign-in's status.
async fn sign_in_status(app: &TestApp, email: &str, password: &str) -> u16 {
    Browser::new(app)
        .post_form(
            "/admin/login",
            &[("email", email), ("password", password), ("next", "/admin")],
        )
        .await
        .status
}

pub async fn an_admin_creates_a_staff_member_who_is_listed_and_signs_in(backend: Backend) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    let admin_email = admin.sign_in_staff("admin").await;
    let list = admin.get("/admin/staff").await;
    list.assert_status(200)
        .assert_contains("href=\"/admin/staff\" aria-current=\"page\"")
        .assert_contains(&admin_email);

    let email = format!("{}@shop.test", unique("ines"));
    let password = "a long enough password";
    let created = admin
        .post_form(
            "/admin/staff",
            &new_member(&email, "Ines Dupont", "inventory", password),
        )
        .await;
    created.assert_status(303);
    assert_eq!(created.location(), Some("/admin/staff?done=created"));
    let list = admin.get("/admin/staff?done=created").await;
    list.assert_status(200)
        .assert_contains("The staff member is created")
        .assert_contains(">Ines Dupont</a>")
        .assert_contains(&format!(
            "<td>{email}</td><td>inventory</td><td>Active</td>"
        ));

    // The password the admin chose is the one the member signs in with.
    assert_eq!(sign_in_status(&app, &email, password).await, 303);
    assert_ne!(sign_in_status(&app, &email, STAFF_PASSWORD).await, 303);
}

pub async fn the_staff_list_is_paged_with_the_apis_cursor(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("admin").await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    // Two admins, and twenty more: 22, more than one page of 20, oldest first.
    let mut emails = Vec::new();
    for i in 0..20 {
        let email = format!("{}@shop.test", unique(&format!("member{i:02}")));
        app.post(
            "/api/v1/staff",
            Some(&token),
            serde_json::json!({"email": email, "name": format!("Member {i:02}"),
                               "role": "finance", "password": "a long enough password"}),
        )
        .await
        .assert_status(201);
        emails.push(email);
    }
    let first = admin.get("/admin/staff").await;
    first
        .assert_status(200)
        .assert_contains(&emails[0])
        .assert_contains("rel=\"next\"");
    assert_lacks(&first, &emails[19]);
    let marker = "href=\"/admin/staff?cursor=";
    let at = first.html.find(marker).expect("a link to the next page") + "href=\"".len();
    let next: String = first.html[at..].chars().take_while(|c| *c != '"').collect();
    let second = admin.get(&next.replace("&amp;", "&")).await;
    second
        .assert_status(200)
        .assert_contains(&emails[19])
        .assert_contains("Back to the first page");
    assert_lacks(&second, &emails[0]);
    assert_lacks(&second, "rel=\"next\"");
}

pub async fn a_bad_email_and_a_short_password_are_told_beside_their_fields(backend: Backend) {
    let app = open_shop(backend).await;
    let admin = Browser::new(&app);
    let admin_email = admin.sign_in_staff("admin").await;

    let refused = admin
        .post_form(
            "/admin/staff",
            &new_member("not-an-email", "Ines Dupont", "finance", "short"),
        )
        .await;
    refused
        .assert_status(422)
        .assert_contains("Some fields need another look")
        .assert_contains("<p class=\"error\" id=\"email-error\">must be an email address")
        .assert_contains("<p class=\"error\" id=\"password-error\">must be at least 10 characters")
        .assert_contains("<option value=\"finance\" selected>");
    assert_eq!(
        refused.input_value("email").as_deref(),
        Some("not-an-email")
    );
    assert_eq!(refused.input_value("name").as_deref(), Some("Ines Dupont"));
    // A password is never written back into a page.
    assert_eq!(refused.input_value("password").as_deref(), Some(""));
    assert_lacks(&refused, "name-error");

    let unchosen = admin
        .post_form(
            "/admin/staff",
            &new_member("ines@shop.test", "Ines", "", "a long enough password"),
        )
        .await;
    unchosen
        .assert_status(422)
        .assert_contains("id=\"role-error\">must be one of admin, inventory, finance");

    // An email already in use is said beside the email field.
    let taken = admin
        .post_form(
            "/admin/staff",
            &new_member(&admin_email, "Twin", "finance", "a long enough password"),
        )
        .await;
    taken
        .assert_status(409)
        .assert_contains("id=\"email-error\">a staff account with this email exists");
    assert_eq!(
        taken.input_value("email").as_deref(),
        Some(admin_email.as_str())
    );
}

pub async fn an_admin_changes_a_role_resets_a_password_and_disables_a_member(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("admin").await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    let email = format!("{}@shop.test", unique("ines"));
    admin
        .post_form(
            "/admin/staff",
            &new_member(&email, "Ines Dupont", "inventory", "first long password"),
        )
        .await
        .assert_status(303);
    let id = id_of(&app, &token, &email).await;
    let path = format!("/admin/staff/{id}");
    let page = admin.get(&path).await;
    page.assert_status(200)
        .assert_contains("id=\"member-role\">inventory")
        .assert_contains("<option value=\"inventory\" selected>");
    let version = page.input_value("version").expect("the version read");

    // A role the API does not know is told beside the field.
    admin
        .post_form(
            &format!("{path}/role"),
            &[("role", "owner"), ("version", &version)],
        )
        .await
        .assert_status(422)
        .assert_contains("id=\"role-error\">must be one of admin, inventory, finance");

    let changed = admin
        .post_form(
            &format!("{path}/role"),
            &[("role", "finance"), ("version", &version)],
        )
        .await;
    changed.assert_status(303);
    assert_eq!(
        changed.location(),
        Some(format!("{path}?done=role").as_str())
    );
    admin
        .get(&format!("{path}?done=role"))
        .await
        .assert_contains("The role is changed")
        .assert_contains("id=\"member-role\">finance");
    admin
        .get("/admin/staff")
        .await
        .assert_contains(&format!("<td>{email}</td><td>finance</td><td>Active</td>"));

    // The form read before the change is told it is out of date, and changes nothing.
    let stale = admin
        .post_form(
            &format!("{path}/role"),
            &[("role", "admin"), ("version", &version)],
        )
        .await;
    stale
        .assert_status(412)
        .assert_contains("Someone else changed this member");
    let now = member(&app, &token, &email).await.expect("the member");
    assert_eq!(now["role"], "finance");

    let version = admin
        .get(&path)
        .await
        .input_value("version")
        .expect("version");
    admin
        .post_form(
            &format!("{path}/password"),
            &[("password", "short"), ("version", &version)],
        )
        .await
        .assert_status(422)
        .assert_contains("id=\"password-error\">must be at least 10 characters");
    admin
        .post_form(
            &format!("{path}/password"),
            &[("password", "second long password"), ("version", &version)],
        )
        .await
        .assert_status(303);
    assert_eq!(
        sign_in_status(&app, &email, "second long password").await,
        303
    );
    assert_ne!(
        sign_in_status(&app, &email, "first long password").await,
        303
    );

    let disabled = admin.post_form(&format!("{path}/disable"), &[]).await;
    disabled.assert_status(303);
    assert_eq!(
        disabled.location(),
        Some(format!("{path}?done=disabled").as_str())
    );
    let page = admin.get(&format!("{path}?done=disabled")).await;
    page.assert_contains("The member is disabled")
        .assert_contains("id=\"member-state\">Disabled");
    assert_lacks(&page, "/disable\"");
    admin.get("/admin/staff").await.assert_contains(&format!(
        "<td>{email}</td><td>finance</td><td>Disabled</td>"
    ));
    assert_ne!(
        sign_in_status(&app, &email, "second long password").await,
        303
    );
}

pub async fn the_bootstrap_admin_cannot_be_disabled_and_the_page_says_why(backend: Backend) {
    let app = open_shop(backend).await;
    // The first admin made is the bootstrap one; the browser's is another admin.
    let token = app.staff_token("admin").await;
    let admin = Browser::new(&app);
    let own_email = admin.sign_in_staff("admin").await;
    let everyone = members(&app, &token).await;
    let bootstrap = everyone
        .iter()
        .find(|m| m["is_bootstrap"] == true)
        .expect("a bootstrap admin");
    let bootstrap_id = bootstrap["id"].as_str().expect("id").to_owned();
    let path = format!("/admin/staff/{bootstrap_id}");

    let page = admin.get(&path).await;
    page.assert_status(200)
        .assert_contains("The first admin cannot be disabled");
    assert_lacks(&page, "/disable\"");
    admin
        .get("/admin/staff")
        .await
        .assert_contains("<span class=\"tag\">first admin</span>");

    let refused = admin.post_form(&format!("{path}/disable"), &[]).await;
    refused
        .assert_status(409)
        .assert_contains("role=\"alert\">The bootstrap admin cannot be disabled.");
    let version = refused.input_value("version").expect("version");
    admin
        .post_form(
            &format!("{path}/role"),
            &[("role", "inventory"), ("version", &version)],
        )
        .await
        .assert_status(409)
        .assert_contains("The bootstrap admin keeps the admin role.");
    let after = member(&app, &token, bootstrap["email"].as_str().expect("email"))
        .await
        .expect("the bootstrap admin");
    assert_eq!(after["disabled"], false);
    assert_eq!(after["role"], "admin");

    // Nor does an admin disable themselves.
    let own = id_of(&app, &token, &own_email).await;
    admin
        .post_form(&format!("/admin/staff/{own}/disable"), &[])
        .await
        .assert_status(409)
        .assert_contains("You cannot disable your own account.");
}

pub async fn other_roles_get_the_refusal_page_and_no_staff_link(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("admin").await;
    let someone = format!("{}@shop.test", unique("someone"));
    app.staff_with_role(&someone, "finance").await;
    let someone_id = id_of(&app, &token, &someone).await;

    for role in ["inventory", "finance"] {
        let clerk = Browser::new(&app);
        clerk.sign_in_staff(role).await;
        let home = clerk.get("/admin").await;
        home.assert_status(200);
        assert_lacks(&home, STAFF_LINK);
        for path in [
            "/admin/staff".to_owned(),
            format!("/admin/staff/{someone_id}"),
        ] {
            let refused = clerk.get(&path).await;
            refused
                .assert_status(403)
                .assert_contains("Not allowed for your role");
            assert_lacks(&refused, STAFF_LINK);
            assert_lacks(&refused, &someone);
        }
        let email = format!("{}@shop.test", unique("sneaky"));
        clerk
            .post_form(
                "/admin/staff",
                &new_member(&email, "Sneaky", "admin", "a long enough password"),
            )
            .await
            .assert_status(403)
            .assert_contains("Not allowed for your role");
        clerk
            .post_form(&format!("/admin/staff/{someone_id}/disable"), &[])
            .await
            .assert_status(403);
        assert!(member(&app, &token, &email).await.is_none(), "{role}");
    }
    let still = member(&app, &token, &someone).await.expect("the member");
    assert_eq!(still["disabled"], false);

    // An admin does see the link.
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    admin.get("/admin").await.assert_contains(STAFF_LINK);
}

pub async fn a_staff_form_posted_from_another_site_is_refused(backend: Backend) {
    let app = open_shop(backend).await;
    let token = app.staff_token("admin").await;
    let admin = Browser::new(&app);
    admin.sign_in_staff("admin").await;
    let email = format!("{}@shop.test", unique("forged"));
    let form = new_member(&email, "Forged", "admin", "a long enough password");
    admin
        .post_form_from("/admin/staff", &form, "cross-site")
        .await
        .assert_status(403);
    assert!(member(&app, &token, &email).await.is_none());

    // The same form from the dashboard's own page works.
    admin
        .post_form("/admin/staff", &form)
        .await
        .assert_status(303);
    let id = id_of(&app, &token, &email).await;
    let path = format!("/admin/staff/{id}");
    let version = admin
        .get(&path)
        .await
        .input_value("version")
        .expect("version");
    for (action, fields) in [
        (
            "role",
            vec![("role", "finance"), ("version", version.as_str())],
        ),
        (
            "password",
            vec![
                ("password", "a forged password"),
                ("version", version.as_str()),
            ],
        ),
        ("disable", vec![]),
    ] {
        admin
            .post_form_from(&format!("{path}/{action}"), &fields, "cross-site")
            .await
            .assert_status(403);
    }
    let after = member(&app, &token, &email).await.expect("the member");
    assert_eq!(after["role"], "admin");
    assert_eq!(after["disabled"], false);
    assert_eq!(after["version"].as_i64(), version.parse().ok());
}
