//! The embedded log's dead letters: retry rows marked dead. Replaying one makes it due
//! now with no attempts spent, so the consumer's retry loop takes it next; discarding
//! one deletes the row, and the consumer never sees the event again (its cursor moved
//! past it long ago).

use std::sync::atomic::Ordering;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, QueryResult};

use super::{EmbeddedBus, now_ms};
use crate::events::{DeadLetter, Envelope};

const SELECT: &str = "SELECT r.consumer, r.seq, r.attempts, r.last_error, r.dead_at, e.body
     FROM bus_retries r JOIN bus_events e ON e.seq = r.seq";

impl EmbeddedBus {
    pub(super) async fn list_dead(&self, limit: usize) -> anyhow::Result<Vec<DeadLetter>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self
            .reader
            .query_all_raw(Self::stmt(
                &format!("{SELECT} WHERE r.dead_at IS NOT NULL ORDER BY r.dead_at DESC LIMIT $1"),
                [limit.into()],
            ))
            .await?;
        rows.iter().map(letter).collect()
    }

    pub(super) async fn find_dead(&self, id: &str) -> anyhow::Result<Option<DeadLetter>> {
        let Some((seq, consumer)) = parse_id(id) else {
            return Ok(None);
        };
        let row = self
            .reader
            .query_one_raw(Self::stmt(
                &format!("{SELECT} WHERE r.consumer = $1 AND r.seq = $2 AND r.dead_at IS NOT NULL"),
                [consumer.into(), seq.into()],
            ))
            .await?;
        row.as_ref().map(letter).transpose()
    }

    pub(super) async fn count_dead(&self) -> anyhow::Result<u64> {
        let row = self
            .reader
            .query_one_raw(Self::stmt(
                "SELECT COUNT(*) AS n FROM bus_retries WHERE dead_at IS NOT NULL",
                [],
            ))
            .await?;
        let n: i64 = row.map_or(Ok(0), |r| r.try_get("", "n"))?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    pub(super) async fn replay_dead(&self, id: &str) -> anyhow::Result<bool> {
        let Some((seq, consumer)) = parse_id(id) else {
            return Ok(false);
        };
        let replayed = self
            .writer
            .execute_raw(Self::stmt(
                "UPDATE bus_retries SET dead_at = NULL, attempts = 0, next_at_ms = $3
                 WHERE consumer = $1 AND seq = $2 AND dead_at IS NOT NULL",
                [consumer.into(), seq.into(), now_ms().into()],
            ))
            .await?
            .rows_affected()
            == 1;
        if replayed {
            self.wakers.replays.fetch_add(1, Ordering::AcqRel);
            // Wake the consumers of its subject, so the replay does not wait for a poll.
            let subject = self
                .reader
                .query_one_raw(Self::stmt(
                    "SELECT subject FROM bus_events WHERE seq = $1",
                    [seq.into()],
                ))
                .await?
                .map(|r| r.try_get::<String>("", "subject"))
                .transpose()?;
            self.wakers.wake(&subject.into_iter().collect::<Vec<_>>());
        }
        Ok(replayed)
    }

    pub(super) async fn discard_dead(&self, id: &str) -> anyhow::Result<bool> {
        let Some((seq, consumer)) = parse_id(id) else {
            return Ok(false);
        };
        let gone = self
            .writer
            .execute_raw(Self::stmt(
                "DELETE FROM bus_retries WHERE consumer = $1 AND seq = $2 AND dead_at IS NOT NULL",
                [consumer.into(), seq.into()],
            ))
            .await?
            .rows_affected();
        Ok(gone == 1)
    }
}

fn letter(row: &QueryResult) -> anyhow::Result<DeadLetter> {
    let body: String = row.try_get("", "body")?;
    let envelope: Envelope = serde_json::from_str(&body)?;
    let dead_at: String = row.try_get("", "dead_at")?;
    let attempts: i32 = row.try_get("", "attempts")?;
    let consumer: String = row.try_get("", "consumer")?;
    let seq: i64 = row.try_get("", "seq")?;
    Ok(DeadLetter {
        id: id(seq, &consumer),
        consumer,
        event_id: envelope.id.to_string(),
        event_type: envelope.event_type,
        attempts: u32::try_from(attempts).unwrap_or(0),
        last_error: row.try_get("", "last_error")?,
        dead_at: DateTime::parse_from_rfc3339(&dead_at)?.with_timezone(&Utc),
    })
}

/// A dead letter is one consumer's failed event: `<seq>-<consumer>`.
fn id(seq: i64, consumer: &str) -> String {
    format!("{seq}-{consumer}")
}

fn parse_id(id: &str) -> Option<(i64, String)> {
    let (seq, consumer) = id.split_once('-')?;
    let seq = seq.parse().ok().filter(|s: &i64| *s > 0)?;
    (!consumer.is_empty()).then(|| (seq, consumer.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::{id, parse_id};

    #[test]
    fn a_dead_letter_id_names_the_event_and_its_consumer() {
        let named = id(42, "notifications-orders");
        assert_eq!(named, "42-notifications-orders");
        assert_eq!(
            parse_id(&named),
            Some((42, "notifications-orders".to_owned()))
        );
        for bad in ["", "42", "42-", "-x", "x-y", "0-x", "-1-x"] {
            assert_eq!(parse_id(bad), None, "{bad:?}");
        }
    }
}
