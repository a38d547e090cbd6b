//! Reusable view pieces, one component per file.

pub mod checklist_item;
pub mod conflict_table;
pub mod icon;
pub mod install_card;
pub mod more_button;
pub mod photo_strip;
pub mod problem_list;
pub mod signature_pad;
pub mod status_chip;
pub mod sync_badge;
pub mod sync_chip;
pub mod tab_bar;
pub mod top_bar;
pub mod update_banner;

pub use checklist_item::{ChecklistItem, ItemState};
pub use conflict_table::ConflictTable;
pub use icon::{Icon, IconName};
pub use install_card::InstallCell;
pub use more_button::{LIST_PAGE, MoreButton};
pub use photo_strip::{PhotoStrip, Thumb, Thumbs};
pub use problem_list::ProblemList;
pub use signature_pad::SignaturePad;
pub use status_chip::StatusChip;
pub use sync_badge::SyncBadge;
pub use sync_chip::SyncChip;
pub use tab_bar::TabBar;
pub use top_bar::TopBar;
pub use update_banner::{
    DraftKeeper, FormNotKept, UpdateBanner, provide_draft_keeper, use_draft_keeper,
};
