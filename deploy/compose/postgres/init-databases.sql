-- One database per service (a service never reads another's tables), created on the
-- first start of an empty volume by the postgres image's entrypoint, as POSTGRES_USER,
-- which then owns them. The services would create a missing one themselves
-- (MERCATO_DATABASE__URL names mercato_{service}); doing it here means their role
-- needs no CREATEDB on a server set up the same way by hand.
CREATE DATABASE mercato_identity;
CREATE DATABASE mercato_catalog;
CREATE DATABASE mercato_media;
CREATE DATABASE mercato_shipping;
CREATE DATABASE mercato_orders;
CREATE DATABASE mercato_payments;
CREATE DATABASE mercato_notifications;
