//! The routed screens, one per file.

pub mod inspect;
pub mod login;
pub mod me;
pub mod not_found;
pub mod print;
pub mod record;
mod record_actions;
pub mod records;
pub mod venue_new;
pub mod venues;

pub use inspect::InspectPage;
pub use login::LoginPage;
pub use me::MePage;
pub use not_found::NotFoundPage;
pub use print::PrintPage;
pub use record::RecordPage;
pub use records::RecordsPage;
pub use venue_new::VenueNewPage;
pub use venues::VenuesPage;
