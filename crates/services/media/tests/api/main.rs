//! Black-box HTTP tests of the media service: uploads, the WebP files, galleries as the
//! catalog shows them, banners and the home page. Every test runs on both back-ends.

mod helpers;

mod banners;
mod galleries;
mod uploads;
