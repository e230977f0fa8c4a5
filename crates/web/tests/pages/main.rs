//! The storefront's and the staff dashboard's pages over HTTP, as a browser without JavaScript sees them: status,
//! content, escaping, forms with the API's messages beside their fields, sessions, and
//! the refusal of cross-site posts. Both back-ends.

mod account;
mod admin;
mod admin_audit;
mod admin_categories;
mod admin_customers;
mod admin_discounts;
mod admin_events;
mod admin_media;
mod admin_order_filters;
mod admin_products;
mod admin_reviews;
mod admin_security;
mod admin_shipping;
mod admin_staff;
mod browsing;
mod buying;
mod own;

use account::*;
use admin::*;
use admin_audit::*;
use admin_categories::*;
use admin_customers::*;
use admin_events::*;
use admin_media::*;
use admin_products::*;
use admin_reviews::*;
use admin_security::*;
use browsing::*;
use buying::*;
use own::*;

use testkit::TestApp;

/// A shop whose cookies work over plain http://127.0.0.1 (browsers treat localhost as
/// secure; this client does not).
pub async fn shop(backend: testkit::Backend) -> TestApp {
    TestApp::spawn_with(backend, |s| s.http.secure_cookies = false).await
}

/// A product on the home page at USD 12.50.
pub async fn product_on_home(app: &TestApp, name: &str, stock: i64) -> (String, String, String) {
    testkit::shop::product_on_home(app, name, 1250, stock).await
}

testkit::backend_tests!(
    the_home_page_shows_the_categories_marked_for_it_with_their_products,
    a_product_page_shows_price_stock_measures_and_search_engine_data,
    a_product_named_like_a_script_shows_as_text_on_every_page,
    listings_search_filter_and_explain_bad_filters_beside_them,
    unknown_pages_and_products_get_the_not_found_page,
    assets_are_immutable_and_compressed,
    a_visitor_registers_verifies_by_the_mailed_link_and_signs_in,
    a_wrong_password_is_shown_on_the_form_and_keeps_the_email,
    a_forgotten_password_is_reset_through_the_mailed_link,
    the_account_page_sends_a_visitor_to_sign_in_and_back,
    a_cross_site_form_post_is_refused,
    buying_pages_send_a_visitor_to_sign_in_and_back,
    placing_an_order_twice_from_one_form_makes_one_order,
    a_discount_code_is_applied_in_the_cart_and_kept_by_the_order,
    the_header_counts_the_units_in_the_cart,
    the_order_status_block_follows_the_saga_by_long_poll,
    the_account_pages_send_a_visitor_to_sign_in_and_back,
    a_customer_changes_their_name_and_asks_to_change_their_email,
    a_customer_changes_their_password_and_stays_signed_in,
    addresses_are_added_listed_refused_beside_their_fields_and_removed,
    order_history_lists_the_customers_orders_only,
    a_product_is_saved_to_the_wishlist_and_moved_to_the_cart,
    a_product_page_estimates_shipping_to_a_postal_code,
    a_delivered_order_prompts_a_review_the_buyer_then_writes,
    the_dashboard_sends_staff_to_sign_in_and_back,
    staff_and_customer_sessions_live_side_by_side,
    staff_fulfil_an_order_step_by_step,
    finance_refunds_part_of_an_order_from_the_dashboard,
    an_unknown_order_is_the_dashboards_not_found_page,
    the_dashboard_home_shows_todays_figures,
    staff_create_edit_stock_and_archive_a_product,
    a_product_saved_meanwhile_is_shown_beside_ones_own_edit,
    staff_keep_the_category_tree,
    staff_put_categories_in_the_order_they_choose,
    staff_find_a_customer_and_read_their_profile_and_orders,
    the_customer_pages_send_staff_to_sign_in_and_explain_what_they_cannot_show,
    an_admin_replays_and_discards_events_given_up_on,
    only_admins_see_events_given_up_on,
    a_clerk_hides_a_review_and_shows_it_again,
    staff_upload_order_and_delete_a_products_pictures,
    an_admin_adds_edits_and_deletes_a_banner,
    staff_set_up_an_authenticator_and_sign_in_with_its_code,
    a_shop_that_requires_a_second_factor_opens_only_its_set_up,
    finance_gets_no_review_moderation,
    the_audit_log_merges_every_services_trail_newest_first,
    only_admins_read_the_audit_log,
);
