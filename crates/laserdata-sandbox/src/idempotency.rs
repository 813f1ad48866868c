//! Replaying answers by `idempotency-key`: a POST, PUT or PATCH repeated with the same key (by
//! the same API key) gets its first answer again instead of doing the work twice.

use std::collections::HashMap;

use bytes::Bytes;

use crate::reply::{Reply, problem};

/// The first answers, by calling key and idempotency key, with the body they were given.
#[derive(Default)]
pub struct Replays {
    answers: HashMap<(String, String), (Bytes, Reply)>,
}

/// Whether a method honours `idempotency-key` (DELETE and reads do not).
pub fn honoured_for(method: &str) -> bool {
    matches!(method, "POST" | "PUT" | "PATCH")
}

impl Replays {
    /// The answer to give again for this request, if it repeats an earlier one: the first
    /// answer (marked `idempotent-replayed`), or 409 when the body differs.
    pub fn replay(&self, key: &(String, String), body: &Bytes) -> Option<Reply> {
        let (first_body, reply) = self.answers.get(key)?;
        if first_body != body {
            return Some(problem(409, "idempotency_error", "The idempotency-key was already used with another body."));
        }
        Some(reply.clone().with_header("idempotent-replayed", "true"))
    }

    /// Remembers an answer; only work that was done is replayed, a refusal may be retried.
    pub fn remember(&mut self, key: (String, String), body: Bytes, reply: &Reply) {
        if (200..300).contains(&reply.status) {
            self.answers.insert(key, (body, reply.clone()));
        }
    }
}
