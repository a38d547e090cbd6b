//! The routed screens, one per file.

pub mod admin;
pub mod campaigns;
pub mod hazards;
pub mod inspect;
pub mod login;
pub mod me;
pub mod not_found;
pub mod print;
pub mod record;
mod record_actions;
pub mod records;
pub mod stats;
pub mod venue_new;
pub mod venues;

pub use admin::AdminPage;
pub use campaigns::CampaignsPage;
pub use hazards::HazardsPage;
pub use inspect::InspectPage;
pub use login::LoginPage;
pub use me::MePage;
pub use not_found::NotFoundPage;
pub use print::PrintPage;
pub use record::RecordPage;
pub use records::RecordsPage;
pub use stats::StatsPage;
pub use venue_new::{VenueEditPage, VenueNewPage};
pub use venues::VenuesPage;
