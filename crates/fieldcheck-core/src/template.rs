//! Checklist templates (检查项), version 1: data, versioned, one per venue kind, each item with its legal basis.
//!
//! An inspection stores the template id it was made with (`"internet_cafe@1"`), so a record stays
//! readable after a later version changes the items. A new version is added beside the old one here;
//! old versions are never edited or removed.

use crate::kinds::VenueKind;

/// One checklist item: a stable code used on the wire as `answers[].item`, its wording and legal basis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct TemplateItem {
    pub code: &'static str,
    pub zh: &'static str,
    pub en: &'static str,
    /// The legal basis for English screens (law names stay Chinese).
    pub basis: &'static str,
    /// The legal basis cited the Chinese way, e.g. 《娱乐场所管理条例》第23条，罚则第48条第(3)项.
    pub basis_zh: &'static str,
}

/// A checklist for one venue kind at one version. The common items come first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub kind: VenueKind,
    pub version: u32,
    /// The main regulation for the kind's own items, e.g. 互联网上网服务营业场所管理条例 (2022).
    pub regulation: &'static str,
    pub items: Vec<TemplateItem>,
}

impl Template {
    /// The id stored on records: `"<kind>@<version>"`.
    pub fn id(&self) -> String {
        format!("{}@{}", self.kind.code(), self.version)
    }

    /// The item with this code, if the template has it.
    pub fn item(&self, code: &str) -> Option<&TemplateItem> {
        self.items.iter().find(|item| item.code == code)
    }

    /// The current template for a kind: what a new inspection uses.
    pub fn current(kind: VenueKind) -> Template {
        let (regulation, own) = kind_items(kind);
        Template {
            kind,
            version: 1,
            regulation,
            items: COMMON.iter().chain(own.iter()).copied().collect(),
        }
    }

    /// The template a stored id names (`"hotel@1"`), if it exists in any version.
    pub fn by_id(template_id: &str) -> Option<Template> {
        let (kind_code, version) = template_id.split_once('@')?;
        let kind = VenueKind::from_code(kind_code)?;
        let version: u32 = version.parse().ok()?;
        // Only version 1 exists so far; a later version adds its own branch here.
        (version == 1).then(|| Template::current(kind))
    }
}

const fn item(
    code: &'static str,
    zh: &'static str,
    en: &'static str,
    basis: &'static str,
    basis_zh: &'static str,
) -> TemplateItem {
    TemplateItem {
        code,
        zh,
        en,
        basis,
        basis_zh,
    }
}

fn kind_items(kind: VenueKind) -> (&'static str, &'static [TemplateItem]) {
    match kind {
        VenueKind::InternetCafe => ("互联网上网服务营业场所管理条例 (2022)", INTERNET_CAFE),
        VenueKind::SongDance => ("娱乐场所管理条例 (2020)", SONG_DANCE),
        VenueKind::Arcade => ("娱乐场所管理条例 (2020)", ARCADE),
        VenueKind::Hotel => ("旅馆业治安管理办法; 未成年人保护法; 安全生产法", HOTEL),
        VenueKind::ScenicSpot => ("旅游法; 安全管理规定", SCENIC_SPOT),
        VenueKind::TravelAgency => ("旅行社条例 (2020); 旅游法", TRAVEL_AGENCY),
        VenueKind::ArtTraining => ("教监管〔2022〕4号及地方规定", ART_TRAINING),
        VenueKind::EsportsHotel => (
            "文化和旅游部、公安部关于电竞酒店的通知 (2023)",
            ESPORTS_HOTEL,
        ),
        VenueKind::ScriptGame => ("剧本娱乐经营场所管理通知 (2022)", SCRIPT_GAME),
        VenueKind::HeritageSite => ("文物保护法 (2024); 文物建筑火灾风险指南", HERITAGE_SITE),
    }
}

/// Common to every venue kind
const COMMON: &[TemplateItem] = &[
    item(
        "common.credentials_shown",
        "执法人员出示执法证件并告知",
        "officers showed their certificates and informed the party",
        "行政处罚法 Art. 55",
        "《行政处罚法》第55条",
    ),
    item(
        "common.licence_displayed",
        "证照齐全并在显著位置悬挂",
        "licences complete and displayed",
        "each kind's regulation",
        "各类场所管理法规",
    ),
    item(
        "common.fire_exits",
        "安全出口、疏散通道畅通，未封堵锁闭",
        "exits and evacuation routes clear, not locked",
        "消防法; 娱乐场所管理条例 Art. 21",
        "《消防法》；《娱乐场所管理条例》第21条",
    ),
    item(
        "common.fire_equipment",
        "消防器材完好有效，应急照明、疏散指示正常",
        "extinguishers valid, emergency lights and exit signs working",
        "消防法",
        "《消防法》",
    ),
    item(
        "common.electrical",
        "电气线路规范，无私拉乱接",
        "wiring sound, no improvised cabling",
        "fire-safety rules",
        "消防安全规定",
    ),
];

/// `internet_cafe` 互联网上网服务营业场所 — 互联网上网服务营业场所管理条例 (2022)
const INTERNET_CAFE: &[TemplateItem] = &[
    item(
        "internet_cafe.minors_sign",
        "入口处悬挂未成年人禁入标志",
        "\"no minors\" sign at the entrance",
        "互联网上网服务营业场所管理条例 Art. 21",
        "《互联网上网服务营业场所管理条例》第21条",
    ),
    item(
        "internet_cafe.no_minors",
        "未接纳未成年人进入",
        "no minors admitted",
        "互联网上网服务营业场所管理条例 Art. 21, penalty 31(2); 未成年人保护法 Art. 58",
        "《互联网上网服务营业场所管理条例》第21条，罚则第31条第(2)项；《未成年人保护法》第58条",
    ),
    item(
        "internet_cafe.hours",
        "营业时间在8时至24时之间",
        "open only 08:00–24:00",
        "互联网上网服务营业场所管理条例 Art. 22, penalty 31(1)",
        "《互联网上网服务营业场所管理条例》第22条，罚则第31条第(1)项",
    ),
    item(
        "internet_cafe.id_registration",
        "核对、登记上网消费者有效身份证件，一人一证",
        "every user's ID checked and registered",
        "互联网上网服务营业场所管理条例 Art. 23, penalty 33",
        "《互联网上网服务营业场所管理条例》第23条，罚则第33条",
    ),
    item(
        "internet_cafe.logs_kept",
        "上网信息记录保存不少于60日，未修改删除",
        "session logs kept ≥ 60 days, unaltered",
        "互联网上网服务营业场所管理条例 Art. 23",
        "《互联网上网服务营业场所管理条例》第23条",
    ),
    item(
        "internet_cafe.tech_measures",
        "经营管理技术措施正常运行，建立巡查制度",
        "management software running, floor patrols",
        "互联网上网服务营业场所管理条例 Art. 19",
        "《互联网上网服务营业场所管理条例》第19条",
    ),
    item(
        "internet_cafe.no_gambling",
        "无赌博、非网络游戏及违禁内容",
        "no gambling, non-network games, banned content",
        "互联网上网服务营业场所管理条例 Art. 14, 17, 18",
        "《互联网上网服务营业场所管理条例》第14、17、18条",
    ),
    item(
        "internet_cafe.no_smoking",
        "禁止吸烟、明火，悬挂禁烟标志",
        "no smoking or open flame; sign posted",
        "互联网上网服务营业场所管理条例 Art. 24(1)",
        "《互联网上网服务营业场所管理条例》第24条第(1)项",
    ),
    item(
        "internet_cafe.no_grilles",
        "未设置固定封闭门窗栅栏，无易燃易爆物品",
        "no fixed window grilles, no flammables",
        "互联网上网服务营业场所管理条例 Art. 24(2)(3)",
        "《互联网上网服务营业场所管理条例》第24条第(2)(3)项",
    ),
];

/// `song_dance` 歌舞娱乐场所 (KTV) — 娱乐场所管理条例 (2020)
const SONG_DANCE: &[TemplateItem] = &[
    item(
        "song_dance.capacity",
        "未超过核定人数",
        "within approved capacity",
        "娱乐场所管理条例 Art. 9, penalty 48(5)",
        "《娱乐场所管理条例》第9条，罚则第48条第(5)项",
    ),
    item(
        "song_dance.song_content",
        "曲库、画面无禁止内容，未接入境外曲库",
        "song library and screens free of banned content; no overseas library",
        "娱乐场所管理条例 Art. 13, 18, penalty 48(1)(2)",
        "《娱乐场所管理条例》第13、18条，罚则第48条第(1)(2)项",
    ),
    item(
        "song_dance.no_minors",
        "未接纳未成年人",
        "no minors admitted",
        "娱乐场所管理条例 Art. 23, penalty 48(3)",
        "《娱乐场所管理条例》第23条，罚则第48条第(3)项",
    ),
    item(
        "song_dance.cctv",
        "出入口、主要通道监控正常，录像保存30日",
        "CCTV at entrances and corridors working, kept 30 days",
        "娱乐场所管理条例 Art. 15, penalty 44",
        "《娱乐场所管理条例》第15条，罚则第44条",
    ),
    item(
        "song_dance.rooms",
        "包厢无内锁、无隔断，门窗透明，照度达标",
        "private rooms: no inner locks or partitions, see-through doors, lit",
        "娱乐场所管理条例 Art. 16, 17",
        "《娱乐场所管理条例》第16、17条",
    ),
    item(
        "song_dance.hours",
        "凌晨2时至8时未营业",
        "closed 02:00–08:00",
        "娱乐场所管理条例 Art. 28, penalty 49",
        "《娱乐场所管理条例》第28条，罚则第49条",
    ),
    item(
        "song_dance.logbook",
        "从业人员名簿、营业日志（保存60日）",
        "staff register and business log kept 60 days",
        "娱乐场所管理条例 Art. 25, penalty 50",
        "《娱乐场所管理条例》第25条，罚则第50条",
    ),
    item(
        "song_dance.signs",
        "禁毒、禁赌、禁止卖淫嫖娼及未成年人禁入标志和举报电话",
        "anti-drug/gambling/prostitution and no-minors signs with hotline",
        "娱乐场所管理条例 Art. 30, penalty 51",
        "《娱乐场所管理条例》第30条，罚则第51条",
    ),
    item(
        "song_dance.prices",
        "明码标价",
        "prices displayed",
        "娱乐场所管理条例 Art. 29",
        "《娱乐场所管理条例》第29条",
    ),
];

/// `arcade` 游艺娱乐场所 — 娱乐场所管理条例 (2020)
const ARCADE: &[TemplateItem] = &[
    item(
        "arcade.no_gambling_machines",
        "无具有赌博功能的游戏机",
        "no machines with a gambling function",
        "娱乐场所管理条例 Art. 19, penalty 45",
        "《娱乐场所管理条例》第19条，罚则第45条",
    ),
    item(
        "arcade.prizes",
        "未以现金、有价证券作奖品，未回购奖品",
        "no cash or securities as prizes, no prize buy-back",
        "娱乐场所管理条例 Art. 19",
        "《娱乐场所管理条例》第19条",
    ),
    item(
        "arcade.minors",
        "除法定节假日外未向未成年人提供游戏设施",
        "machines not offered to minors outside statutory holidays",
        "娱乐场所管理条例 Art. 23, penalty 48(4)",
        "《娱乐场所管理条例》第23条，罚则第48条第(4)项",
    ),
    item(
        "arcade.content",
        "游戏内容无禁止内容",
        "no banned content in games",
        "娱乐场所管理条例 Art. 13",
        "《娱乐场所管理条例》第13条",
    ),
    item(
        "arcade.cctv",
        "监控正常，录像保存30日",
        "CCTV working, kept 30 days",
        "娱乐场所管理条例 Art. 15",
        "《娱乐场所管理条例》第15条",
    ),
    item(
        "arcade.hours",
        "凌晨2时至8时未营业",
        "closed 02:00–08:00",
        "娱乐场所管理条例 Art. 28",
        "《娱乐场所管理条例》第28条",
    ),
];

/// `hotel` 星级宾馆 / 酒店 — 旅馆业治安管理办法; 未成年人保护法; 安全生产法
const HOTEL: &[TemplateItem] = &[
    item(
        "hotel.guest_registration",
        "如实登记住宿旅客身份信息",
        "every guest's ID registered truthfully",
        "旅馆业治安管理办法 Art. 6",
        "《旅馆业治安管理办法》第6条",
    ),
    item(
        "hotel.minor_checkin",
        "接待未成年人入住询问监护人联系方式及同住人关系",
        "minors: guardian contact and co-occupant relationship asked",
        "未成年人保护法 Art. 57",
        "《未成年人保护法》第57条",
    ),
    item(
        "hotel.fire_patrol",
        "防火巡查（每2小时）和月度检查有记录",
        "fire patrols every 2 h and monthly checks recorded",
        "fire-safety rules for hotels",
        "旅馆消防安全规定",
    ),
    item(
        "hotel.fire_control_room",
        "消防控制室24小时持证值班",
        "fire-control room staffed 24 h by certified staff",
        "fire-safety rules for hotels",
        "旅馆消防安全规定",
    ),
    item(
        "hotel.gas_alarm",
        "使用燃气场所安装可燃气体报警装置",
        "gas-using areas have combustible-gas alarms",
        "安全生产法 (2021)",
        "《安全生产法》（2021）",
    ),
    item(
        "hotel.no_dangerous_goods",
        "无易燃易爆等危险物品",
        "no dangerous goods",
        "旅馆业治安管理办法 Art. 11",
        "《旅馆业治安管理办法》第11条",
    ),
];

/// `scenic_spot` 景区 — 旅游法; safety rules
const SCENIC_SPOT: &[TemplateItem] = &[
    item(
        "scenic_spot.capacity",
        "执行最大承载量控制，有预约/限流措施",
        "maximum capacity enforced, booking or flow control",
        "旅游法",
        "《旅游法》",
    ),
    item(
        "scenic_spot.facilities",
        "游乐及安全设施完好，警示标识清晰",
        "rides and safety equipment sound, warnings clear",
        "safety rules",
        "安全管理规定",
    ),
    item(
        "scenic_spot.emergency_plan",
        "有应急预案并演练",
        "emergency plan exists and is drilled",
        "safety rules",
        "安全管理规定",
    ),
    item(
        "scenic_spot.prices",
        "门票及服务明码标价",
        "ticket and service prices displayed",
        "价格法",
        "《价格法》",
    ),
];

/// `travel_agency` 旅行社 — 旅行社条例 (2020); 旅游法 Art. 35
const TRAVEL_AGENCY: &[TemplateItem] = &[
    item(
        "travel_agency.licence",
        "持有旅行社业务经营许可证，未出租出借",
        "licensed, licence not lent",
        "旅行社条例 Art. 7, 46, 47",
        "《旅行社条例》第7、46、47条",
    ),
    item(
        "travel_agency.deposit_insurance",
        "足额缴纳质量保证金，投保责任险",
        "quality deposit paid, liability insurance held",
        "旅行社条例 Art. 13, 38",
        "《旅行社条例》第13、38条",
    ),
    item(
        "travel_agency.contracts",
        "与游客签订书面合同，内容完整",
        "written contract with every tourist, all required terms",
        "旅行社条例 Art. 28, penalty 55",
        "《旅行社条例》第28条，罚则第55条",
    ),
    item(
        "travel_agency.low_price",
        "无不合理低价组团、指定购物或另行付费项目",
        "no unreasonably low-price tours, forced shopping or paid extras",
        "旅游法 Art. 35; 旅行社条例 Art. 27",
        "《旅游法》第35条；《旅行社条例》第27条",
    ),
    item(
        "travel_agency.guides",
        "导游持证，出境团配领队",
        "guides hold guide cards, outbound groups have a leader",
        "旅行社条例 Art. 30, 31",
        "《旅行社条例》第30、31条",
    ),
    item(
        "travel_agency.advertising",
        "无虚假宣传",
        "no false advertising",
        "旅行社条例 Art. 24",
        "《旅行社条例》第24条",
    ),
];

/// `art_training` 艺术类校外培训机构 — 双减 rules (教监管〔2022〕4号 and local rules)
const ART_TRAINING: &[TemplateItem] = &[
    item(
        "art_training.permit",
        "取得办学许可（先证后照）",
        "holds the school-running permit before the business licence",
        "教监管〔2022〕4号",
        "教监管〔2022〕4号",
    ),
    item(
        "art_training.teacher_quals",
        "教学人员具备相应资质，无在职中小学教师",
        "teachers qualified; no serving school teachers on staff",
        "教监管〔2022〕4号; local rules",
        "教监管〔2022〕4号；地方规定",
    ),
    item(
        "art_training.prepaid_limits",
        "一次性收费不超过3个月或60课时且不超过5000元",
        "no prepayment beyond 3 months / 60 lessons / 5 000 RMB",
        "教监管〔2022〕4号",
        "教监管〔2022〕4号",
    ),
    item(
        "art_training.fund_supervision",
        "预收费纳入资金监管（专用账户或风险保证金）",
        "prepaid fees under fund supervision (escrow account or deposit)",
        "教监管函〔2021〕2号",
        "教监管函〔2021〕2号",
    ),
    item(
        "art_training.disclosure",
        "公示许可证、收费项目、退费办法、投诉电话",
        "permit, fees, refund rules, complaint line posted",
        "local rules",
        "地方规定",
    ),
    item(
        "art_training.background_checks",
        "从业人员入职及每年查询性侵等违法犯罪记录",
        "staff checked for sexual-abuse and similar records on hiring and yearly",
        "未成年人保护法 Art. 62",
        "《未成年人保护法》第62条",
    ),
    item(
        "art_training.premises",
        "不在住宅楼内；12岁以下学员教室不在地下室或4层以上",
        "not in a residential building; classes for ≤12s not in basements or above 3rd floor",
        "local rules",
        "地方规定",
    ),
];

/// `esports_hotel` 电竞酒店 — 文化和旅游部、公安部 notice (2023)
const ESPORTS_HOTEL: &[TemplateItem] = &[
    item(
        "esports_hotel.no_minors",
        "电竞房区域不接待未成年人",
        "no minors in e-sports rooms",
        "2023 notice",
        "文化和旅游部、公安部关于电竞酒店的通知（2023）",
    ),
    item(
        "esports_hotel.signs",
        "入口/电竞区显著位置悬挂未成年人禁入标志，前台公示电竞房分布",
        "no-minors sign at entrance or e-sports area; room map at the desk",
        "2023 notice",
        "文化和旅游部、公安部关于电竞酒店的通知（2023）",
    ),
    item(
        "esports_hotel.room_limits",
        "每间电竞房床位不超过6张，电脑数、人数不超过床位数",
        "≤ 6 beds per room; computers and guests ≤ beds",
        "2023 notice",
        "文化和旅游部、公安部关于电竞酒店的通知（2023）",
    ),
    item(
        "esports_hotel.booking_notice",
        "预订、入住时告知不接待未成年人",
        "guests told at booking and check-in",
        "2023 notice",
        "文化和旅游部、公安部关于电竞酒店的通知（2023）",
    ),
    item(
        "esports_hotel.id_registration",
        "入住人员逐一核验登记身份",
        "every occupant's ID checked and registered",
        "2023 notice; 旅馆业治安管理办法",
        "文化和旅游部、公安部关于电竞酒店的通知（2023）；《旅馆业治安管理办法》",
    ),
    item(
        "esports_hotel.computer_controls",
        "电脑具备防未成年人登录和时长提醒功能",
        "computers block minors' logins and show playtime reminders",
        "2023 notice",
        "文化和旅游部、公安部关于电竞酒店的通知（2023）",
    ),
];

/// `script_game` 剧本娱乐经营场所 (剧本杀, escape rooms) — five-ministry notice (2022)
const SCRIPT_GAME: &[TemplateItem] = &[
    item(
        "script_game.filing",
        "开业30日内备案，剧本名称、作者、简介、适龄范围已备案",
        "filed within 30 days of opening, scripts filed",
        "2022 notice",
        "剧本娱乐经营场所管理通知（2022）",
    ),
    item(
        "script_game.content_review",
        "剧本、场景、道具、服装经自审，无禁止内容",
        "scripts, sets, props, costumes self-reviewed, no banned content",
        "2022 notice",
        "剧本娱乐经营场所管理通知（2022）",
    ),
    item(
        "script_game.age_labels",
        "剧本标注适龄范围，不适宜场景有提示，禁止未成年人进入",
        "age labels; warnings on unsuitable scenes; minors kept out of them",
        "2022 notice",
        "剧本娱乐经营场所管理通知（2022）",
    ),
    item(
        "script_game.minors_times",
        "未成年人仅在法定节假日、周末、寒暑假接待",
        "minors only on holidays, weekends and school holidays",
        "2022 notice",
        "剧本娱乐经营场所管理通知（2022）",
    ),
    item(
        "script_game.premises",
        "不在居民楼内，不在地下二层及以下",
        "not in a residential building, not below the first basement",
        "2022 notice",
        "剧本娱乐经营场所管理通知（2022）",
    ),
    item(
        "script_game.fire_selfcheck",
        "开展火灾风险自知自查自改及员工消防培训",
        "fire-risk self-check and staff fire training",
        "2022 notice",
        "剧本娱乐经营场所管理通知（2022）",
    ),
];

/// `heritage_site` 文物建筑 — 文物保护法 (2024) Art. 39; 文物建筑火灾风险指南
const HERITAGE_SITE: &[TemplateItem] = &[
    item(
        "heritage_site.responsibility",
        "安全责任人明确，责任公告牌设置",
        "named safety officer, responsibility notice posted",
        "文物保护法",
        "《文物保护法》",
    ),
    item(
        "heritage_site.open_flame",
        "无违规用火、焚香点烛、吸烟",
        "no improper fire use, incense, candles, smoking",
        "火灾风险指南",
        "《文物建筑火灾风险指南》",
    ),
    item(
        "heritage_site.wiring",
        "电线穿管保护，未直接敷设在文物本体或可燃物上",
        "wiring in conduit, not fixed to the historic fabric or combustibles",
        "火灾风险指南",
        "《文物建筑火灾风险指南》",
    ),
    item(
        "heritage_site.electric_appliances",
        "无违规使用电暖器、电热毯等大功率电器",
        "no heaters, electric blankets or other high-load appliances",
        "火灾风险指南",
        "《文物建筑火灾风险指南》",
    ),
    item(
        "heritage_site.combustibles",
        "无柴草、木料等可燃物堆放，无违章搭建",
        "no stored firewood or timber, no illegal sheds",
        "火灾风险指南",
        "《文物建筑火灾风险指南》",
    ),
    item(
        "heritage_site.lightning",
        "防雷设施完好",
        "lightning protection sound",
        "火灾风险指南",
        "《文物建筑火灾风险指南》",
    ),
    item(
        "heritage_site.emergency_plan",
        "有消防应急预案并演练，消防档案完整",
        "fire emergency plan drilled, fire-safety file complete",
        "火灾风险指南",
        "《文物建筑火灾风险指南》",
    ),
];
