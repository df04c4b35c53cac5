//! The billing module's channels and payloads, defined by Switchboard and documented in
//! `docs/PROTOCOL.md`. Money is an integer count of minor units with its currency: never a
//! float.

use std::fmt;

use serde::{Deserialize, Serialize};
use switchboard_core::TypedChannel;

/// `invoice_update`: an invoice was created or changed status.
pub const INVOICE_UPDATE: TypedChannel<InvoiceUpdate> = TypedChannel::new("invoice_update");
/// `subscriber_update`: a subscriber's account status changed.
pub const SUBSCRIBER_UPDATE: TypedChannel<SubscriberUpdate> =
    TypedChannel::new("subscriber_update");

/// Every channel this module receives.
pub const CHANNELS: &[&str] = &[INVOICE_UPDATE.name(), SUBSCRIBER_UPDATE.name()];

/// An amount of money: integer minor units (cents) and an ISO 4217 currency code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units: 4999 is 49.99 in a two-decimal currency.
    pub minor: i64,
    /// ISO 4217 code, e.g. `EUR`.
    pub currency: String,
}

impl Money {
    /// Decimal places of the currency's minor unit.
    pub fn exponent(&self) -> u32 {
        match self.currency.as_str() {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Money {
    /// `1,234.50 EUR`: grouped thousands, the currency's decimals, then the code.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let exp = self.exponent();
        let scale = 10i64.pow(exp);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        let (whole, frac) = (abs / scale.unsigned_abs(), abs % scale.unsigned_abs());
        let digits = whole.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if exp == 0 {
            write!(f, "{sign}{grouped} {}", self.currency)
        } else {
            write!(
                f,
                "{sign}{grouped}.{frac:0width$} {}",
                self.currency,
                width = exp as usize
            )
        }
    }
}

/// Where an invoice is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvoiceStatus {
    /// Being prepared; not sent.
    Draft,
    /// Sent, not yet due.
    Issued,
    /// Paid in full.
    Paid,
    /// Past due and unpaid.
    Overdue,
    /// Cancelled.
    Void,
}

impl InvoiceStatus {
    /// Every status, in display order.
    pub const ALL: [InvoiceStatus; 5] = [
        Self::Draft,
        Self::Issued,
        Self::Paid,
        Self::Overdue,
        Self::Void,
    ];

    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Issued => "issued",
            Self::Paid => "paid",
            Self::Overdue => "overdue",
            Self::Void => "void",
        }
    }
}

/// `invoice_update` payload: the invoice after the change.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvoiceUpdate {
    /// Invoice number, e.g. `INV-2025-000123`.
    pub invoice_id: String,
    /// The subscriber billed.
    pub subscriber_id: String,
    /// The subscriber's display name.
    pub subscriber_name: String,
    /// The invoice total.
    pub amount: Money,
    /// The status after the change.
    pub status: InvoiceStatus,
    /// When it changed (RFC 3339).
    pub updated_at: String,
}

/// A subscriber account's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SubscriberStatus {
    /// In service.
    Active,
    /// Service paused, e.g. for non-payment.
    Suspended,
    /// Contract ended.
    Terminated,
}

impl SubscriberStatus {
    /// The wire name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Suspended => "suspended",
            Self::Terminated => "terminated",
        }
    }
}

/// `subscriber_update` payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriberUpdate {
    /// Subscriber id, e.g. `sub_1042`.
    pub subscriber_id: String,
    /// Display name.
    pub name: String,
    /// The plan, e.g. `Fibre 500`.
    pub plan: String,
    /// The status after the change.
    pub status: SubscriberStatus,
    /// When it changed (RFC 3339).
    pub changed_at: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_formats_without_floats() {
        let m = |minor, c: &str| {
            Money {
                minor,
                currency: c.into(),
            }
            .to_string()
        };
        assert_eq!(m(4999, "EUR"), "49.99 EUR");
        assert_eq!(m(123_456_789, "USD"), "1,234,567.89 USD");
        assert_eq!(m(-5, "EUR"), "-0.05 EUR");
        assert_eq!(m(1500, "JPY"), "1,500 JPY");
        assert_eq!(m(1234, "KWD"), "1.234 KWD");
        assert_eq!(m(0, "EUR"), "0.00 EUR");
    }
}
