"""Text of the sample corpus: fictitious government-office documents, drawn by seed.

All text here is written for guidang (no real office, person or case). Documents are
notices (通知), approvals (批复), meeting minutes (会议纪要) and 政务服务 case records, in
simplified Chinese and in traditional Chinese, with some English lines (dates, numbers,
names, an English abstract). A document is assembled from a title template and body
paragraphs picked and ordered by a seeded RNG, with names, dates and numbers filled in,
so any number of distinct documents can be drawn reproducibly.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

import numpy as np

Script = Literal["hans", "hant"]
Kind = Literal["notice", "approval", "minutes", "service"]
KINDS: tuple[Kind, ...] = ("notice", "approval", "minutes", "service")


@dataclass(frozen=True)
class ServiceCase:
    """The 政务服务 fields of a case record (catalogue extension columns)."""

    matter_name: str  # 事项名称
    matter_code: str  # 事项编码
    case_number: str  # 办件编号
    applicant: str  # 申请人
    accepted_at: str  # 受理时间, "YYYY-MM-DD HH:MM"
    completed_at: str  # 办结时间
    outcome: str  # 办理结果


@dataclass(frozen=True)
class DocumentText:
    """One document (件) before layout: what goes on its pages, in reading order."""

    kind: Kind
    script: Script
    issuer: str  # 责任者 / 发文机关
    header: str  # 红头 (masthead) text
    doc_number: str  # 文号
    title: str  # 题名
    addressee: str  # 主送机关 line ("" for none)
    paragraphs: tuple[str, ...]  # body, more than the pages need: the renderer takes what fits
    closing: tuple[str, ...]  # closing lines (此复。, 附件…), always printed after the body
    signature: tuple[str, ...]  # 落款 lines (issuer, date), right-aligned at the end
    seal: str  # text around the seal (印章)
    date: dt.date
    service: ServiceCase | None = None

    @property
    def date_yyyymmdd(self) -> str:
        return self.date.strftime("%Y%m%d")


# --- value pools (placeholders in templates) --------------------------------------------------

_CITY = {"hans": ("临江市", "青川市", "东湖市", "云岭市"), "hant": ("臨江市", "青川市", "東湖市", "雲嶺市")}
_OFFICE = {
    "hans": ("人民政府办公室", "政务服务管理局", "自然资源和规划局", "市场监督管理局", "档案局"),
    "hant": ("政府秘書處", "政務服務管理局", "自然資源和規劃局", "市場監督管理局", "檔案局"),
}
_ABBR = {
    "hans": ("政办", "政服", "自然资规", "市监", "档"),
    "hant": ("政秘", "政服", "自然資規", "市監", "檔"),
}
_NAME = {
    "hans": ("张伟", "王芳", "李强", "刘洋", "陈静", "杨帆", "赵磊", "黄敏", "周杰", "吴倩", "徐明", "孙丽"),
    "hant": ("張偉", "王芳", "李強", "劉洋", "陳靜", "楊帆", "趙磊", "黃敏", "周傑", "吳倩", "徐明", "孫麗"),
}
_NAME_EN = (
    "Zhang Wei",
    "Wang Fang",
    "Li Qiang",
    "Liu Yang",
    "Chen Jing",
    "Yang Fan",
    "Zhao Lei",
    "Huang Min",
    "Zhou Jie",
    "Wu Qian",
    "Xu Ming",
    "Sun Li",
)
_DEPT = {
    "hans": ("综合科", "审批服务科", "信息中心", "档案室", "法制科", "财务科"),
    "hant": ("綜合科", "審批服務科", "資訊中心", "檔案室", "法制科", "財務科"),
}
_COMPANY = {
    "hans": (
        "临江恒达建材有限公司",
        "青川市绿源农业科技有限公司",
        "东湖区明远餐饮管理有限公司",
        "云岭市星河物流有限公司",
        "临江市安和医疗器械有限公司",
    ),
    "hant": (
        "臨江恆達建材有限公司",
        "青川市綠源農業科技有限公司",
        "東湖區明遠餐飲管理有限公司",
        "雲嶺市星河物流有限公司",
        "臨江市安和醫療器械有限公司",
    ),
}
_MONTH_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)

# --- titles -------------------------------------------------------------------------------------

_TITLES: dict[tuple[Script, Kind], tuple[str, ...]] = {
    ("hans", "notice"): (
        "关于做好{year}年度文书档案归档工作的通知",
        "关于开展政务服务事项电子文件归档试点工作的通知",
        "关于进一步规范纸质档案数字化外包管理的通知",
        "关于印发《{city}机关档案安全管理办法》的通知",
        "关于加强{year}年度档案信息化建设的通知",
    ),
    ("hans", "approval"): (
        "关于同意{company}建设项目用地预审的批复",
        "关于{city}档案馆数字化加工项目实施方案的批复",
        "关于同意调整{dept}档案保管期限表的批复",
        "关于{company}食品经营许可事项的批复",
    ),
    ("hans", "minutes"): (
        "{city}档案工作领导小组{year}年第{n}次会议纪要",
        "关于政务服务档案单套制管理工作的专题会议纪要",
        "{city}数字档案室建设推进会会议纪要",
    ),
    ("hans", "service"): (
        "{matter}办件材料（{applicant}）",
        "{applicant}申请{matter}的办理记录",
    ),
    ("hant", "notice"): (
        "關於辦理{year}年度文書檔案歸檔作業的通知",
        "關於加強紙本檔案數位化委外管理的通知",
        "關於推動電子公文線上簽核與歸檔的通知",
    ),
    ("hant", "approval"): (
        "關於同意{company}建築執照申請案之核復",
        "關於{city}檔案館典藏空間擴充計畫之核定函",
    ),
    ("hant", "minutes"): (
        "{city}檔案管理委員會{year}年第{n}次會議紀錄",
        "研商機關檔案數位化作業流程會議紀錄",
    ),
    ("hant", "service"): ("{matter}案件紀錄（{applicant}）",),
}

# --- body paragraphs ---------------------------------------------------------------------------

_PARAS: dict[tuple[Script, Kind], tuple[str, ...]] = {
    ("hans", "notice"): (
        "为贯彻落实《中华人民共和国档案法》和《机关档案工作条例》，进一步规范本单位文件材料的收集、整理和归档工作，"
        "确保档案真实、完整、可用、安全，经研究，现就{year}年度归档工作有关事项通知如下。",
        "一、归档范围。凡本机关在履行职能过程中形成的、具有保存价值的各种门类和载体的文件材料，包括纸质文件、"
        "电子文件、照片和音视频材料，均应按照归档范围和保管期限表的规定及时归档，不得拒绝归档或者据为己有。",
        "二、整理要求。文书档案按照“年度—保管期限—机构”进行分类，以件为单位整理，件内文件按正本在前、定稿在后，"
        "正文在前、附件在后的顺序排列。归档文件目录应逐件编制，日期统一以八位数字表示，如{year}0315。",
        "三、时间安排。各科室应于{year}年{month}月{day}日前完成本部门文件的清点和初步整理，"
        "并将归档文件目录电子版报送{dept}。{dept}将在收到材料后十个工作日内完成审核，审核中发现的问题将以书面形式反馈。",
        "四、数字化要求。纸质档案数字化应当符合DA/T 31-2017的规定，扫描分辨率不低于300 dpi，"
        "有红头、印章的页面应当采用彩色模式扫描，图像文件以档号加图像序号命名，同一批次采用同一种存储格式。",
        "五、安全保密。涉及国家秘密的文件材料按照保密管理规定单独整理、单独保管，不得在互联网计算机上处理。"
        "外包服务单位的工作人员应当签订保密协议，工作场所应当安装视频监控，数据载体实行登记管理。",
        "六、工作要求。各科室主要负责人是本部门归档工作的第一责任人，要明确专人负责，确保按时保质完成任务。"
        "对未按要求归档造成文件材料缺失的，将予以通报。联系人：{name}，联系电话：0571-8{n4}。",
        "请各单位高度重视，认真组织实施，工作中遇到的问题请及时与{office}联系。本通知自印发之日起施行。",
        "附件：1. {year}年度归档文件目录样表　2. 文书档案保管期限表（修订稿）",
    ),
    ("hans", "approval"): (
        "你单位《关于{subject}的请示》（{abbr}〔{year}〕{n}号）收悉。经研究，现批复如下。",
        "一、原则同意你单位提出的实施方案。项目总投资估算为人民币{amount}万元，资金由你单位自筹解决，"
        "建设期限自{year}年{month}月起至{year2}年{month}月止，共计十二个月。",
        "二、项目实施过程中应当严格执行国家有关标准规范，数字化成果须经验收合格后方可移交进馆。验收按照不低于5%的比例"
        "抽检，目录与图像对应关系的抽检合格率应当达到100%，其他内容的抽检合格率不低于95%。",
        "三、你单位要切实加强项目管理，落实安全保密责任，建立健全工作台账，确保档案实体和数字化成果的安全。"
        "项目完成后，请将实施情况书面报告我局。",
        "四、本批复自印发之日起两年内有效。逾期未实施的，本批复自动失效，如需继续实施，应当重新报批。",
        "五、数字化成果应当同时提交目录数据库、图像文件和元数据，图像文件与目录条目一一对应，"
        "页数与归档文件目录所载页数一致。漏扫、重扫、多扫的，由承担单位负责补正。",
        "六、项目经费应当专款专用，严格执行政府采购有关规定。审计部门将对项目资金使用情况进行专项审计，"
        "发现问题的，依法依规处理。项目联系人：{name}，电话：0571-8{n4}。",
        "此复。",
    ),
    ("hans", "minutes"): (
        "{year}年{month}月{day}日上午，{city}副市长{name}主持召开专题会议，研究部署全市电子档案单套制管理试点工作。"
        "市政务服务管理局、市档案局、市大数据中心等单位负责同志参加会议。",
        "会议听取了市档案局关于试点工作进展情况的汇报。截至目前，全市已有{n}个部门完成政务服务事项电子文件归档系统部署，"
        "累计归档办件{amount}件，四性检测一次通过率达到{pct}%。",
        "会议指出，推进政务服务电子文件单套归档，是优化营商环境、提升政府治理能力的重要举措。各部门要统一思想，"
        "强化协作，确保电子档案来源可靠、程序规范、要素合规。",
        "会议明确：一是由市政务服务管理局牵头，于{month}月底前完成业务系统归档接口改造；二是市档案局负责制定"
        "电子档案接收检测规则，对真实性、完整性、可用性和安全性逐项检测；三是市大数据中心负责提供存储和备份环境。",
        "会议要求，各单位要按照时间节点倒排工期，每月{day}日前报送工作进展，对推进不力的单位由市政府督查室进行督办。",
        "出席：{name}、{name2}、{name3}。列席：{dept}{name4}。记录：{name5}。",
    ),
    ("hans", "service"): (
        "事项名称：{matter}",
        "事项编码：{matter_code}　　办件编号：{case_number}",
        "申请人：{applicant}　　统一社会信用代码：91{n4}MA{n4b}X{n}",
        "受理时间：{accepted}　　受理部门：{office}{dept}",
        "申请人于{accepted}通过“一网通办”平台提交申请材料，共计{n}份。窗口工作人员{name}对材料进行了形式审查，"
        "材料齐全、符合法定形式，予以受理，并出具受理通知书。",
        "审查意见：经审查，申请人提交的营业执照、法定代表人身份证明、经营场所使用证明等材料真实有效，"
        "经营场所现场核查符合相关要求，同意准予许可。承办人：{name2}，审核人：{name3}。",
        "办结时间：{completed}　　办理结果：{outcome}",
        "证照编号：{cert}，有效期至{year2}年{month}月{day}日。送达方式：电子证照推送及窗口领取。",
        "Case No. {case_number}. Applicant: {applicant_en}. Accepted on {accepted_en}; decision: approved.",
    ),
    ("hant", "notice"): (
        "為落實檔案法及相關規定，健全本機關檔案管理制度，確保檔案之真實性、完整性及可用性，"
        "茲就{year}年度文書檔案歸檔作業相關事項通知如下。",
        "一、歸檔範圍：凡本機關處理公務所產生之各類文件，包括紙本公文、電子公文、照片及影音資料，"
        "均應依檔案保存年限區分表之規定辦理歸檔，不得私自留存或任意銷毀。",
        "二、整理方式：文書檔案以件為單位整理，正本在前、附件在後，並依年度、保存年限及單位分類編號。"
        "檔案目錄應逐件登錄，日期一律以八位數字表示，例如{year}0315。",
        "三、時程：各單位應於{year}年{month}月{day}日前完成文件清點及初步整理，並將檔案目錄電子檔送交{dept}彙辦。",
        "四、數位化：紙本檔案數位化之掃描解析度不得低於300 dpi，具有印信或彩色內容之頁面應以彩色模式掃描，"
        "影像檔案以檔號加影像序號命名。",
        "五、本案聯絡人：{name}，電話：(02) 2{n4}-{n4b}，電子郵件：records@example.gov。",
        "六、電子公文應於線上簽核完成後即時歸檔，歸檔時應一併保存簽核軌跡、附件及詮釋資料，"
        "不得僅保存列印紙本。已完成歸檔之電子檔案，非經核准不得修改或刪除。",
        "七、委外數位化廠商應於每批交付時附送檢查清冊，載明檔號、頁數、掃描日期及影像格式，"
        "並提供影像檔案之雜湊值，以供本處驗收比對。",
        "請各單位確實配合辦理，如有疑義，請逕洽{office}。",
    ),
    ("hant", "approval"): (
        "貴公司{year}年{month}月{day}日申請函及附件均敬悉。經本局審查，核復如下。",
        "一、原則同意所報計畫，計畫總經費新臺幣{amount}萬元，由貴單位自行籌措，執行期間自{year}年{month}月起為期一年。",
        "二、執行期間應遵守相關法規及技術規範，成果應經驗收合格後始得移交。驗收以抽樣方式辦理，抽樣比率不低於百分之五。",
        "三、數位化影像應以TIFF或JPEG格式儲存，解析度不低於300 dpi，同一批次應採用同一種儲存格式，"
        "影像檔名以檔號加影像序號命名，並與檔案目錄逐件核對無誤。",
        "四、貴單位應指定專人負責計畫執行及安全管理，作業場所應設置門禁及監視設備，檔案原件之調閱、歸還均應詳實登記。",
        "五、計畫完成後，請將執行成果報告書送本局備查。",
    ),
    ("hant", "minutes"): (
        "時間：{year}年{month}月{day}日（星期三）上午十時。地點：本府第二會議室。主席：{name}。記錄：{name2}。",
        "主席致詞：本次會議主要研商機關檔案數位化作業流程，請各單位就作業現況及遭遇之困難提出說明。",
        "檔案室報告：本年度已完成數位化檔案{amount}件，影像總頁數約{n4}頁，抽樣檢查合格率為百分之{pct}。",
        "決議：一、請資訊中心於下月底前完成影像品質自動檢測功能；二、委外廠商應依約於每批交付時附送檢查清冊。",
        "討論事項：影像歪斜、黑邊及漏頁之處理方式。說明：經抽查發現部分影像歪斜超過三度，"
        "另有空白頁未予標註之情形，擬請廠商重新掃描並於清冊中註記。",
        "散會：上午十一時三十分。",
    ),
    ("hant", "service"): (
        "事項名稱：{matter}",
        "事項編碼：{matter_code}　　案件編號：{case_number}",
        "申請人：{applicant}",
        "受理時間：{accepted}　　受理單位：{office}",
        "申請人於{accepted}經線上平台提出申請，承辦人{name}審查所附文件齊備，依規定予以受理。",
        "審查意見：申請人所附登記證明文件、負責人身分證明及營業場所證明均屬實，經現場勘查符合規定，擬准予核發。",
        "辦結時間：{completed}　　辦理結果：{outcome}",
    ),
}

# English lines mixed into notices/approvals/minutes (an abstract, contacts, dates).
_ENGLISH_ANY: tuple[str, ...] = (
    "Contact: {name_en}, Records Office, Tel. +86 571 8{n4}, Ref. {abbr_en}-{year}-{n}.",
    "Issued on {month_en} {day}, {year}. Total budget: CNY {amount},000. Pages: {n}.",
)
_ENGLISH: dict[Kind, tuple[str, ...]] = {
    "notice": (
        "Abstract: This notice sets out the scope, arrangement rules and time limits for filing the {year} "
        "administrative records, including the digitisation of paper records at 300 dpi or higher.",
        *_ENGLISH_ANY,
    ),
    "minutes": (
        "Abstract: The meeting reviewed progress on single-track electronic records management and agreed "
        "on three actions with deadlines for the end of {month_en}.",
        *_ENGLISH_ANY,
    ),
    "approval": _ENGLISH_ANY,
    "service": (),
}

_MATTERS: dict[Script, tuple[tuple[str, str], ...]] = {
    "hans": (
        ("食品经营许可（新办）", "330100-000-XK-0012"),
        ("建设工程规划许可证核发", "330100-000-XK-0215"),
        ("个体工商户设立登记", "330100-000-QT-0031"),
        ("公共场所卫生许可", "330100-000-XK-0088"),
        ("档案查阅利用申请", "330100-000-GG-0007"),
    ),
    "hant": (
        ("食品業者登錄申請", "630000-000-XK-0012"),
        ("建築執照核發", "630000-000-XK-0215"),
        ("檔案應用申請", "630000-000-GG-0007"),
    ),
}
_OUTCOMES = {
    "hans": ("准予许可", "准予登记", "不予许可", "同意查阅"),
    "hant": ("准予核發", "准予登錄", "不予核准"),
}
_SUBJECTS = ("档案数字化加工项目实施方案", "建设项目用地预审", "调整档案保管期限表", "档案库房改造")


def _pick(rng: np.random.Generator, values: tuple[str, ...]) -> str:
    return values[int(rng.integers(len(values)))]


def compose_document(
    rng: np.random.Generator,
    *,
    kind: Kind | None = None,
    script: Script | None = None,
    year: int = 2023,
    english: bool | None = None,
    min_paragraphs: int = 40,
) -> DocumentText:
    """Draw one document from the pools.

    The body is the kind's paragraphs in order (a random 80% of the middle ones), followed
    by shuffled rounds of the long paragraphs up to ``min_paragraphs``: more than the pages
    need, the renderer stops when its page budget is used. ``english`` adds English lines
    (default: drawn, ~50%).
    """
    kind = kind if kind is not None else KINDS[int(rng.integers(len(KINDS)))]
    script = script if script is not None else ("hans" if rng.random() < 0.7 else "hant")
    english = bool(rng.random() < 0.5) if english is None else english
    office_i = int(rng.integers(len(_OFFICE[script])))
    city = _pick(rng, _CITY[script])
    office = city + _OFFICE[script][office_i]
    abbr = _ABBR[script][office_i]
    date = dt.date(year, 1, 1) + dt.timedelta(days=int(rng.integers(0, 360)))
    names = [str(n) for n in rng.permutation(np.array(_NAME[script]))]
    name_en = _pick(rng, _NAME_EN)
    n = int(rng.integers(2, 40))
    matter, matter_code = _MATTERS[script][int(rng.integers(len(_MATTERS[script])))]
    applicant = _pick(rng, _COMPANY[script])
    accepted = dt.datetime(date.year, date.month, date.day, int(rng.integers(8, 12)), int(rng.integers(0, 60)))
    completed = accepted + dt.timedelta(days=int(rng.integers(1, 15)), hours=int(rng.integers(0, 6)))
    case_number = f"{date:%Y%m%d}{int(rng.integers(100000, 999999))}"
    outcome = _pick(rng, _OUTCOMES[script])
    values = {
        "year": str(year),
        "year2": str(year + 1),
        "month": str(date.month),
        "day": str(date.day),
        "month_en": _MONTH_EN[date.month - 1],
        "city": city,
        "office": office,
        "abbr": abbr,
        "abbr_en": "".join(c for c in matter_code if c.isalpha())[:2] + str(office_i),
        "name": names[0],
        "name2": names[1],
        "name3": names[2],
        "name4": names[3],
        "name5": names[4],
        "name_en": name_en,
        "dept": _pick(rng, _DEPT[script]),
        "company": applicant,
        "n": str(n),
        "n4": f"{int(rng.integers(1000, 9999))}",
        "n4b": f"{int(rng.integers(1000, 9999))}",
        "amount": f"{int(rng.integers(12, 980))}",
        "pct": f"{int(rng.integers(86, 100))}",
        "subject": _pick(rng, _SUBJECTS),
        "matter": matter,
        "matter_code": matter_code,
        "case_number": case_number,
        "applicant": applicant,
        "applicant_en": name_en,
        "accepted": f"{accepted:%Y-%m-%d %H:%M}",
        "accepted_en": f"{accepted:%d %b %Y}",
        "completed": f"{completed:%Y-%m-%d %H:%M}",
        "outcome": outcome,
        "cert": f"JY{int(rng.integers(10**13, 10**14 - 1))}",
    }
    title = _pick(rng, _TITLES[(script, kind)]).format_map(values)
    pool = _PARAS[(script, kind)]
    closing_n = 0 if kind == "service" else 1
    middle = pool[1 : len(pool) - closing_n]
    keep = rng.random(len(middle)) < 0.8
    body = [pool[0], *(p for p, k in zip(middle, keep, strict=True) if k or kind == "service")]
    # continuation: long paragraphs of the same script, own kind first, each used once per round
    others = [p for (s, k), ps in _PARAS.items() if s == script and k not in (kind, "service") for p in ps]
    rounds = [p for p in pool if len(p) > 40], [p for p in others if len(p) > 40]
    while len(body) < min_paragraphs:
        for group in rounds:
            body.extend(group[int(i)] for i in rng.permutation(len(group)) if group[int(i)] not in body)
        body.extend(rounds[0][int(i)] for i in rng.permutation(len(rounds[0])))
    paragraphs = [p.format_map(values) for p in body]
    closing = tuple(p.format_map(values) for p in pool[len(pool) - closing_n :])
    if english and kind != "service":
        paragraphs.insert(1, _pick(rng, _ENGLISH[kind]).format_map(values))
    year_mark = "〔" + str(year) + "〕"
    header = office + ("文件" if script == "hans" else "函")
    if kind == "service":
        header = office + ("办件记录" if script == "hans" else "案件紀錄")
    doc_number = f"{city[:2]}{abbr}{year_mark}{n}号" if script == "hans" else f"{city[:2]}{abbr}字第{year}{n:04d}號"
    addressee = ""
    if kind in ("notice", "approval"):
        addressee = (
            ("各科室、各直属单位：" if script == "hans" else "本府各單位：") if kind == "notice" else applicant + "："
        )
    date_zh = f"{date.year}年{date.month}月{date.day}日"
    return DocumentText(
        kind=kind,
        script=script,
        issuer=office,
        header=header,
        doc_number=doc_number,
        title=title,
        addressee=addressee,
        paragraphs=tuple(paragraphs),
        closing=closing,
        signature=(office, date_zh),
        seal=office,
        date=date,
        service=ServiceCase(
            matter_name=matter,
            matter_code=matter_code,
            case_number=case_number,
            applicant=applicant,
            accepted_at=values["accepted"],
            completed_at=values["completed"],
            outcome=outcome,
        )
        if kind == "service"
        else None,
    )
