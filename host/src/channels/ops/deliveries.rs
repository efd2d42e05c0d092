//! Channel operations on the plugin's own deliveries: how a page ended, as the remote service
//! reported it afterwards (a call's status callback).

use nightowl_api::notifications::NotificationStatus;

use super::OpError;
use crate::channels::Call;
use crate::db;
use crate::notify::outbox::{escalation_outcome, with_folded};

/// How a delivery ended (the WIT `delivery-outcome`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    /// It reached the person.
    Answered,
    /// It did not: rang out, busy, rejected, failed on the way.
    NotAnswered,
}

impl Call {
    /// Records how the page this plugin delivered as `external_id` ended. A page not answered is a
    /// failed delivery (with the pages folded into it) and a `not_answered` step of its escalation,
    /// which goes on at the tier's deadline. Only for the plugin's own deliveries in this tenant; in
    /// an inbound call only once the callback's signature was verified.
    pub fn report_delivery(
        &self,
        external_id: &str,
        outcome: DeliveryOutcome,
        detail: &str,
    ) -> Result<(), OpError> {
        if self.inbound && !self.verified.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(OpError::Forbidden(
                "the callback's signature was not verified (crypto.verify-hmac) before reporting".to_owned(),
            ));
        }
        let detail: String = detail.chars().take(200).collect();
        self.run(async {
            let mut tx = self.tx("system:channel").await?;
            let row = db::outbox::by_external_id(&mut tx, external_id, &self.channel_names())
                .await?
                .ok_or(OpError::NotFound)?;
            let now = self.now();
            match outcome {
                DeliveryOutcome::Answered => {
                    db::outbox::note_outcome(&mut tx, row.id, "answered", None).await?;
                }
                DeliveryOutcome::NotAnswered => {
                    let error = format!("not answered: {detail}");
                    // Only the first report counts (Twilio may send a status twice).
                    if db::outbox::note_outcome(&mut tx, row.id, "not_answered", Some(&error)).await? {
                        for r in &with_folded(&mut tx, &row, Some(&error)).await? {
                            if let Some(settled) =
                                escalation_outcome(r, NotificationStatus::Failed, None, Some(&error))
                            {
                                crate::escalation::notification_unanswered(&mut tx, settled, &detail, now)
                                    .await?;
                            }
                        }
                    }
                }
            }
            tx.commit().await?;
            Ok(())
        })
    }
}
