//! The envelope every event travels in, whatever the bus.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use uuid::Uuid;

/// A payload that can be published. The type name is also the bus subject, so it is
/// dotted, entity first, past tense and versioned: `identity.customer.registered.v1`.
pub trait Event: Serialize + DeserializeOwned {
    const TYPE: &'static str;
    /// Bumped when the payload changes in a way old consumers could misread.
    const SCHEMA_VERSION: u32 = 1;
    /// The aggregate the event is about; consumers use it with the version to ignore
    /// stale updates.
    fn aggregate_id(&self) -> String;
}

/// The metadata around an event payload, identical on every bus.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Envelope {
    /// UUIDv7: unique, and ordered by creation time. Buses dedupe on it, inboxes record it.
    pub id: Uuid,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: u32,
    pub occurred_at: DateTime<Utc>,
    pub aggregate_id: String,
    pub aggregate_version: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    pub payload: serde_json::Value,
}

impl Envelope {
    /// Wraps an event. Serialising our own payload types cannot fail (no maps with
    /// non-string keys), so a failure here is a programming error worth surfacing.
    pub fn wrap<E: Event>(
        event: &E,
        aggregate_version: i64,
        occurred_at: DateTime<Utc>,
        request_id: Option<String>,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id: Uuid::now_v7(),
            event_type: E::TYPE.to_owned(),
            schema_version: E::SCHEMA_VERSION,
            occurred_at,
            aggregate_id: event.aggregate_id(),
            aggregate_version,
            trace_id: request_id.clone(),
            request_id,
            payload: serde_json::to_value(event)?,
        })
    }

    /// Whether this envelope carries an `E`.
    pub fn is<E: Event>(&self) -> bool {
        self.event_type == E::TYPE
    }

    /// Reads the payload as `E`; unknown fields are ignored so producers may add fields.
    pub fn decode<E: Event>(&self) -> Result<E, serde_json::Error> {
        E::deserialize(&self.payload)
    }
}

/// Declares the events one consumer handles as an enum, a variant per event type, with
/// a `decode` that reads an envelope into it: `None` for any other type (one the
/// consumer ignores, or one newer than it knows). Handlers `match` on the variants
/// instead of comparing type names.
#[macro_export]
macro_rules! decoded_events {
    ($(#[$meta:meta])* $vis:vis enum $name:ident { $($variant:ident($ty:ty)),+ $(,)? }) => {
        $(#[$meta])*
        $vis enum $name {
            $($variant($ty)),+
        }

        impl $name {
            /// The event `envelope` carries, if it is one of these.
            $vis fn decode(
                envelope: &$crate::Envelope,
            ) -> ::std::result::Result<::std::option::Option<Self>, $crate::envelope::DecodeError> {
                $(
                    if envelope.event_type == <$ty as $crate::Event>::TYPE {
                        return envelope.decode::<$ty>().map(|e| Some(Self::$variant(e)));
                    }
                )+
                Ok(None)
            }
        }
    };
}

/// Why a payload could not be read as the event its type names.
pub type DecodeError = serde_json::Error;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::CustomerVerified;

    #[test]
    fn an_envelope_round_trips_and_tolerates_unknown_fields() {
        let event = CustomerVerified {
            customer_id: Uuid::now_v7(),
            email: "a@b.c".into(),
        };
        let env = Envelope::wrap(&event, 3, Utc::now(), Some("req-1".into())).unwrap();
        let mut json = serde_json::to_value(&env).unwrap();
        json["payload"]["added_later"] = serde_json::json!(true);
        json["unknown_meta"] = serde_json::json!(1);
        let back: Envelope = serde_json::from_value(json).unwrap();
        assert!(back.is::<CustomerVerified>());
        assert_eq!(back.decode::<CustomerVerified>().unwrap(), event);
        assert_eq!(back.aggregate_version, 3);
        assert_eq!(back.id.get_version_num(), 7);
    }
}
