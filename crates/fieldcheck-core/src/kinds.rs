//! The ten venue kinds the brigade inspects, with their stable wire codes and names.

use serde::{Deserialize, Serialize};

/// A kind of venue (场所类型). The snake_case code is stable on the wire and in template ids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    InternetCafe,
    SongDance,
    Arcade,
    Hotel,
    ScenicSpot,
    TravelAgency,
    ArtTraining,
    EsportsHotel,
    ScriptGame,
    HeritageSite,
}

impl VenueKind {
    /// Every kind, in the order screens list them.
    pub const ALL: [VenueKind; 10] = [
        VenueKind::InternetCafe,
        VenueKind::SongDance,
        VenueKind::Arcade,
        VenueKind::Hotel,
        VenueKind::ScenicSpot,
        VenueKind::TravelAgency,
        VenueKind::ArtTraining,
        VenueKind::EsportsHotel,
        VenueKind::ScriptGame,
        VenueKind::HeritageSite,
    ];

    /// The wire code, e.g. `internet_cafe`.
    pub fn code(self) -> &'static str {
        match self {
            VenueKind::InternetCafe => "internet_cafe",
            VenueKind::SongDance => "song_dance",
            VenueKind::Arcade => "arcade",
            VenueKind::Hotel => "hotel",
            VenueKind::ScenicSpot => "scenic_spot",
            VenueKind::TravelAgency => "travel_agency",
            VenueKind::ArtTraining => "art_training",
            VenueKind::EsportsHotel => "esports_hotel",
            VenueKind::ScriptGame => "script_game",
            VenueKind::HeritageSite => "heritage_site",
        }
    }

    /// The kind for a wire code, if it is one of the ten.
    pub fn from_code(code: &str) -> Option<VenueKind> {
        VenueKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// The short Chinese name inspectors use.
    pub fn name_zh(self) -> &'static str {
        match self {
            VenueKind::InternetCafe => "网吧",
            VenueKind::SongDance => "歌舞娱乐场所",
            VenueKind::Arcade => "游艺娱乐场所",
            VenueKind::Hotel => "星级宾馆",
            VenueKind::ScenicSpot => "景区",
            VenueKind::TravelAgency => "旅行社",
            VenueKind::ArtTraining => "艺术类校外培训机构",
            VenueKind::EsportsHotel => "电竞酒店",
            VenueKind::ScriptGame => "剧本娱乐经营场所",
            VenueKind::HeritageSite => "文物建筑",
        }
    }

    /// The English name.
    pub fn name_en(self) -> &'static str {
        match self {
            VenueKind::InternetCafe => "Internet café",
            VenueKind::SongDance => "KTV / dance hall",
            VenueKind::Arcade => "Arcade",
            VenueKind::Hotel => "Star-rated hotel",
            VenueKind::ScenicSpot => "Scenic spot",
            VenueKind::TravelAgency => "Travel agency",
            VenueKind::ArtTraining => "Art training school",
            VenueKind::EsportsHotel => "E-sports hotel",
            VenueKind::ScriptGame => "Script-game venue",
            VenueKind::HeritageSite => "Heritage building",
        }
    }
}
