//! Demo data for `serve --demo`: two Luoyang brigades, their users and a venue register covering every
//! venue kind, so a fresh server can be tried (and unit visibility seen) without typing anything in.

use crate::db::{self, DbError, RecordWrite};
use crate::users::{self, NewUser, UserError};
use chrono::Utc;
use fieldcheck_core::sync::Entity;
use fieldcheck_core::{Location, Role, UnitId, User, Venue, VenueId, VenueKind};
use sqlx::AnyPool;
use std::fmt::Write as _;

/// Every demo user's password. Demo only: the logins are printed for anyone to use.
pub const DEMO_PASSWORD: &str = "fieldcheck";
/// The unit most demo users and venues belong to.
pub const MAIN_UNIT: &str = "洛阳市老城区文化市场综合执法大队";
/// A second unit, so that what one unit cannot see is demonstrable.
pub const SECOND_UNIT: &str = "洛阳市西工区文化市场综合执法大队";

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Database(#[from] DbError),
    /// A demo venue fails core validation: a bug in this file.
    #[error("demo venue {0} is invalid: {1}")]
    InvalidVenue(String, String),
}

/// What the demo data created.
#[derive(Debug, Clone)]
pub struct DemoData {
    /// Each unit's name with its users, in the order they were made.
    pub units: Vec<(String, Vec<User>)>,
    pub venues: Vec<Venue>,
}

impl DemoData {
    /// The lines printed for the operator: a count, then each unit with its logins, one per line as
    /// `  zhangwei / fieldcheck  (inspector, 张伟)`.
    pub fn logins_table(&self) -> String {
        let n_users: usize = self.units.iter().map(|(_, users)| users.len()).sum();
        let mut table = format!(
            "demo data created: {} units, {n_users} users, {} venues\n",
            self.units.len(),
            self.venues.len()
        );
        for (unit_name, unit_users) in &self.units {
            let _ = writeln!(table, "{unit_name}:");
            for user in unit_users {
                let _ = writeln!(
                    table,
                    "  {} / {DEMO_PASSWORD}  ({}, {})",
                    user.username,
                    user.role.code(),
                    user.name
                );
            }
        }
        table
    }
}

struct DemoUser {
    username: &'static str,
    role: Role,
    name: &'static str,
    cert_no: Option<&'static str>,
    unit: &'static str,
}

const DEMO_USERS: &[DemoUser] = &[
    DemoUser {
        username: "zhangwei",
        role: Role::Inspector,
        name: "张伟",
        cert_no: Some("豫C-0101023"),
        unit: MAIN_UNIT,
    },
    DemoUser {
        username: "liqiang",
        role: Role::Inspector,
        name: "李强",
        cert_no: Some("豫C-0101047"),
        unit: MAIN_UNIT,
    },
    DemoUser {
        username: "chenjing",
        role: Role::Inspector,
        name: "陈静",
        cert_no: Some("豫C-0101088"),
        unit: MAIN_UNIT,
    },
    DemoUser {
        username: "wangfang",
        role: Role::Supervisor,
        name: "王芳",
        cert_no: Some("豫C-0101005"),
        unit: MAIN_UNIT,
    },
    DemoUser {
        username: "admin",
        role: Role::Admin,
        name: "系统管理员",
        cert_no: None,
        unit: MAIN_UNIT,
    },
    DemoUser {
        username: "zhaolei",
        role: Role::Inspector,
        name: "赵磊",
        cert_no: Some("豫C-0102031"),
        unit: SECOND_UNIT,
    },
    // A second officer, so that the unit's records can be submitted (each needs two), and a
    // supervisor to review them.
    DemoUser {
        username: "zhoumin",
        role: Role::Inspector,
        name: "周敏",
        cert_no: Some("豫C-0102046"),
        unit: SECOND_UNIT,
    },
    DemoUser {
        username: "sunhui",
        role: Role::Supervisor,
        name: "孙慧",
        cert_no: Some("豫C-0102008"),
        unit: SECOND_UNIT,
    },
];

/// One register entry: kind, name, licence number, address, (lat, lon), contact, phone, unit.
type DemoVenue = (
    VenueKind,
    &'static str,
    &'static str,
    &'static str,
    (f64, f64),
    &'static str,
    &'static str,
    &'static str,
);

#[rustfmt::skip]
const DEMO_VENUES: &[DemoVenue] = &[
    (VenueKind::InternetCafe, "星际网咖（中州东路店）", "41030210023", "洛阳市老城区中州东路218号", (34.6832, 112.4713), "刘建军", "13903791234", MAIN_UNIT),
    (VenueKind::InternetCafe, "极速网络会所", "41030210057", "洛阳市老城区道北路36号二楼", (34.6905, 112.4652), "陈晓东", "13783456712", MAIN_UNIT),
    (VenueKind::SongDance, "金嗓子量贩式KTV", "410302120008", "洛阳市老城区西大街112号负一层", (34.6818, 112.4598), "孙丽娜", "13673798801", MAIN_UNIT),
    (VenueKind::SongDance, "欢乐颂KTV（涧西店）", "410305120014", "洛阳市涧西区广州市场步行街18号", (34.6602, 112.3921), "周海涛", "0379-64912345", MAIN_UNIT),
    (VenueKind::Arcade, "欢乐谷电玩城", "410311130005", "洛阳市洛龙区开元大道256号购物中心四楼", (34.6197, 112.4536), "吴志刚", "13938862210", MAIN_UNIT),
    (VenueKind::Arcade, "童趣动漫游艺城", "410302130002", "洛阳市老城区民主街40号", (34.6841, 112.4689), "郑秀梅", "15238790016", MAIN_UNIT),
    (VenueKind::Hotel, "洛阳丽景门大酒店", "洛公特旅字第0103号", "洛阳市老城区九都东路88号", (34.6797, 112.4621), "王建华", "0379-63921888", MAIN_UNIT),
    (VenueKind::Hotel, "洛阳牡丹城宾馆", "洛公特旅字第0215号", "洛阳市涧西区南昌路2号", (34.6625, 112.3889), "李红霞", "0379-64856666", MAIN_UNIT),
    (VenueKind::ScenicSpot, "洛邑古城", "", "洛阳市老城区新街南段与九都东路交叉口", (34.6786, 112.4668), "马晓燕", "0379-63185566", MAIN_UNIT),
    (VenueKind::ScenicSpot, "丽景门景区", "", "洛阳市老城区西大街1号", (34.6815, 112.4571), "黄国强", "0379-63930099", MAIN_UNIT),
    (VenueKind::TravelAgency, "洛阳古都国际旅行社有限公司", "L-HEN-00521", "洛阳市洛龙区龙门大道168号", (34.6243, 112.4412), "林静", "0379-65123456", MAIN_UNIT),
    (VenueKind::TravelAgency, "河洛风情旅行社", "L-HEN-01377", "洛阳市老城区中州东路302号", (34.6829, 112.4752), "何伟", "13598178820", MAIN_UNIT),
    (VenueKind::ArtTraining, "牡丹艺术培训学校", "教民141030270000123号", "洛阳市涧西区长安路36号", (34.6587, 112.3968), "徐丽", "13837901122", MAIN_UNIT),
    (VenueKind::ArtTraining, "小天鹅舞蹈培训中心", "教民141030270000087号", "洛阳市老城区金业路15号", (34.6771, 112.4705), "罗敏", "15896511230", MAIN_UNIT),
    (VenueKind::EsportsHotel, "超神电竞酒店", "洛公特旅字第0388号", "洛阳市洛龙区开元大道218号", (34.6211, 112.4489), "高飞", "18603790055", MAIN_UNIT),
    (VenueKind::ScriptGame, "谜城剧本推理馆", "洛剧备〔2023〕012号", "洛阳市老城区中州东路156号三楼", (34.6835, 112.4682), "梁宇", "17739790231", MAIN_UNIT),
    (VenueKind::HeritageSite, "河南府文庙", "", "洛阳市老城区文明街", (34.6788, 112.4741), "宋文博", "0379-63910022", MAIN_UNIT),
    (VenueKind::HeritageSite, "山陕会馆", "", "洛阳市老城区九都东路", (34.6779, 112.4632), "韩志远", "0379-63922017", MAIN_UNIT),
    (VenueKind::InternetCafe, "飞扬网咖（王城大道店）", "41030310031", "洛阳市西工区王城大道99号", (34.6671, 112.4288), "杨帆", "13526987745", SECOND_UNIT),
    (VenueKind::SongDance, "欢唱KTV（凯旋路店）", "410303120021", "洛阳市西工区凯旋东路64号", (34.6709, 112.4402), "曹磊", "0379-63255678", SECOND_UNIT),
    (VenueKind::Hotel, "洛阳王城宾馆", "洛公特旅字第0077号", "洛阳市西工区中州中路260号", (34.6738, 112.4375), "许佳", "0379-63338899", SECOND_UNIT),
];

/// Creates the demo data if the database has no users yet; `None` when it already has some, so a
/// restart with `--demo` never duplicates or overwrites anything.
///
/// Venues are stored through [`db::write_record`], exactly like pushed records (rev 1, one change-log
/// entry each), so phones receive them by pull.
pub async fn seed(pool: &AnyPool) -> Result<Option<DemoData>, DemoError> {
    if db::count_users(pool).await? > 0 {
        return Ok(None);
    }
    let mut units: Vec<(String, Vec<User>)> = Vec::new();
    for demo_user in DEMO_USERS {
        let user = users::add_user(
            pool,
            NewUser {
                username: demo_user.username.to_owned(),
                password: DEMO_PASSWORD.to_owned(),
                role: demo_user.role,
                unit_name: demo_user.unit.to_owned(),
                name: Some(demo_user.name.to_owned()),
                cert_no: demo_user.cert_no.map(str::to_owned),
            },
        )
        .await?;
        match units.iter_mut().find(|(name, _)| name == demo_user.unit) {
            Some((_, unit_users)) => unit_users.push(user),
            None => units.push((demo_user.unit.to_owned(), vec![user])),
        }
    }
    let unit_id = |unit_name: &str| -> Option<UnitId> {
        units
            .iter()
            .find(|(name, _)| name == unit_name)
            .and_then(|(_, unit_users)| unit_users.first())
            .map(|user| user.unit_id.clone())
    };
    let admin_id = units
        .iter()
        .flat_map(|(_, unit_users)| unit_users)
        .find(|user| user.role == Role::Admin)
        .map(|user| user.id.clone());

    let mut venues = Vec::with_capacity(DEMO_VENUES.len());
    let mut tx = db::begin_write(pool).await?;
    for &(kind, name, licence_no, address, (lat, lon), contact_name, contact_phone, unit) in
        DEMO_VENUES
    {
        let unit_id = unit_id(unit)
            .ok_or_else(|| DemoError::InvalidVenue(name.to_owned(), format!("no unit {unit}")))?;
        let venue = Venue {
            id: VenueId(uuid::Uuid::now_v7().to_string()),
            kind,
            name: name.to_owned(),
            licence_no: licence_no.to_owned(),
            address: address.to_owned(),
            location: Some(Location {
                lat,
                lon,
                accuracy_m: None,
            }),
            contact_name: contact_name.to_owned(),
            contact_phone: contact_phone.to_owned(),
            unit_id,
            active: true,
            field_registered: false,
            initials: crate::initials::pinyin_initials(name),
        };
        venue
            .validate()
            .map_err(|problems| DemoError::InvalidVenue(name.to_owned(), problems.to_string()))?;
        let body = serde_json::to_value(&venue)
            .map_err(|error| DemoError::InvalidVenue(name.to_owned(), error.to_string()))?;
        db::write_record(
            &mut tx,
            RecordWrite {
                entity: Entity::Venue,
                id: venue.id.as_str(),
                unit_id: &venue.unit_id,
                rev: 1,
                body: &body,
                user_id: admin_id.as_ref(),
                origin: None,
                at: Utc::now(),
            },
        )
        .await?;
        venues.push(venue);
    }
    tx.commit().await.map_err(DbError::from)?;
    Ok(Some(DemoData { units, venues }))
}
