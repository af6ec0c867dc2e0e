"""The working home: ``guidang init`` writes a commented config and the folder layout."""

from __future__ import annotations

from pathlib import Path

from guidang.config import CONFIG_NAME

DEFAULT_CONFIG = """\
# guidang 配置文件 / configuration
# 每个键都可以用环境变量覆盖：GUIDANG_<KEY>，嵌套键用 "__" 连接，例如
# Every key can be overridden by the environment: GUIDANG_<KEY>, nested keys joined by "__", e.g.
#   GUIDANG_OCR__LANGUAGES=chi_tra+eng   GUIDANG_DATABASE_URL=postgresql+psycopg://…

# 界面与回执语言（zh 或 en；回执总是同时包含两种语言）/ language of messages (zh or en)
language = "zh"

# 本系统是否为涉密信息系统：为 false 时，密级为秘密、机密、绝密的条目在接收时即被拒收
# / true only on a system accredited for classified records; else 秘密/机密/绝密 rows are refused
classified_system = false

# 编目数据库；留空则使用工作目录下的 SQLite 文件 catalogue.db
# catalogue database URL; empty = SQLite file catalogue.db in the working home
database_url = ""

[ocr]
# Tesseract 语言模型 / Tesseract language models
languages = "chi_sim+eng"
# 并行工作进程数（默认：CPU 核数）/ worker processes (default: number of cores)
# jobs = 2
# 某页的处理进程异常退出（崩溃、内存不足被杀）时最多尝试的次数，最后一次单独运行
# attempts for a page whose process dies (crash, OOM kill); the last one runs it alone
# page_attempts = 3

[pdfa]
# PDF/A 部分与级别：1b（GB/T 23286.1）、2b（默认）、3b（嵌入元数据 XML）
# PDF/A part: 1b (GB/T 23286.1), 2b (default), 3b (metadata XML embedded as associated file)
part = "2b"

[clamav]
# clamd 的本地套接字；不设置则由 guidang 在工作目录 clamav/ 下自行启动 clamd
# clamd's socket; unset: guidang starts its own clamd under <home>/clamav
# socket = "/run/clamav/clamd.ctl"
# true：无可用杀毒软件时，ingest/check 以退出码 4 停止；false：照常运行，但每件的 4-1、4-2 不合格（未扫描不入库）
# true: with no antivirus answering, ingest/check stop with exit code 4; false: they run, and 4-1 and 4-2
# fail for every item (nothing is accepted unscanned)
required = true
# 离线更新病毒库：把 .cvd/.cld 文件放入 <工作目录>/clamav/updates/，经 clamscan 试加载验证后启用
# offline signature updates: drop .cvd/.cld files into <home>/clamav/updates/; each is test-loaded by
# clamscan before clamd uses it (docs/antivirus.md)

# [distributed]
# 分布式处理（Celery，消息代理为 Redis）：设置后各页的识别由任意机器上的 guidang worker 进程执行；
# 留空则在本机进程池中处理。须同时使用 PostgreSQL 编目数据库和共享存储，见 docs/deploy/distributed.md
# distributed processing (Celery, broker Redis): when set, pages are read by `guidang worker` processes on
# any machine; empty: the local process pool. Needs a PostgreSQL catalogue and a shared home
# (docs/deploy/distributed.md)
# broker_url = "redis://:password@broker.example:6379/0"
# lease_seconds = 600

# [antivirus]
# 使用命令行杀毒软件代替 clamd（如国内通用杀毒产品）；退出码约定见 docs/antivirus.md
# a command-line antivirus instead of clamd; its exit-code contract: docs/antivirus.md
# command = ["/opt/av/bin/scan", "{file}"]
# clean_exit_codes = [0]
# infected_exit_codes = [1]
# version_command = ["/opt/av/bin/scan", "--version"]

# [watch]
# Prometheus 指标（guidang watch 提供 http://127.0.0.1:9464/metrics；不设则不提供）
# Prometheus metrics served by guidang watch at http://<metrics_address>:<metrics_port>/metrics (unset: off)
# metrics_port = 9464
# metrics_address = "127.0.0.1"

# 每个收件箱一个档案（profile）；收件箱目录默认为 inbox/<档案名>
# One profile per inbox; the inbox folder defaults to inbox/<profile name>
[profiles.demo]
vendor = "示例扫描公司"          # 外包扫描公司或业务系统 / vendor or business system
archive_name = "示例市档案馆"     # 档案馆名称
fonds_code = "Z109"             # 全宗号
fonds_name = "示例市政务服务中心"  # 全宗名称
unit_name = "示例市政务服务中心"   # 立档单位名称
archival_code_rule = "dat22"    # 档号规则：dat22（Z109-WS·2011-Y-BGS-0001）或 dat13（Z109-WS·2011·Y·办公室-0001）
# ocr_languages = "chi_sim+eng"
# 文字识别引擎：ppocr（默认，简繁中文与英文）或 tesseract（其他语言、竖排）；见 docs/ocr-engines.md
# OCR engine: ppocr (default; simplified and traditional Chinese, English) or tesseract (other languages, vertical)
# ocr_engine = "ppocr"
require_ready_marker = true     # 等待 READY 标记文件 / wait for the READY marker
quiet_seconds = 30              # 无标记时的静默期（秒）/ quiet period when markers are not used
# 仅示例用：只有测试病毒库（无正式病毒库）时 4-2 只警告、不阻止入库。正式收件箱请勿设置
# demo only: with test signatures alone (no vendor database) 4-2 warns instead of blocking. Never in production
accept_test_signatures = true

# 示例：按卷整理的纸质档案（案卷目录 + 卷内目录，docs/volumes.md），档号 全宗号-目录号-案卷号-件号
# Demo: paper kept in volumes (案卷目录 + 卷内目录, docs/volumes.md), 档号 全宗号-目录号-案卷号-件号
[profiles.demo-volumes]
vendor = "示例扫描公司"
archive_name = "示例市档案馆"
fonds_code = "Z109"
fonds_name = "示例市政务服务中心"
unit_name = "示例市政务服务中心"
archival_code_rule = "dat13-catalogue"
accept_test_signatures = true

# 每批上限（超出则整批或该件退回，并说明是哪项上限）；默认值及依据见 docs/security.md
# Per-batch limits (beyond one, the batch or item is returned naming the limit); see docs/security.md
# [profiles.demo.limits]
# max_rows = 5000                 # 目录条目 / catalogue rows
# max_files = 200000              # 批次文件数 / files in the batch
# max_pages_per_item = 5000       # 每件页数 / pages per item
# max_batch_bytes = 549755813888  # 批次总字节（512 GiB）/ bytes in the batch
"""

LAYOUT = ("inbox", "outbox", "store", "rejected", "processing", "work")


def init_home(home: Path, *, force: bool = False) -> list[Path]:
    """Create the folder layout and the default config; never overwrite an existing config."""
    created: list[Path] = []
    home.mkdir(parents=True, exist_ok=True)
    for name in LAYOUT:
        folder = home / name
        if not folder.exists():
            folder.mkdir(parents=True)
            created.append(folder)
    (home / "inbox" / "demo").mkdir(exist_ok=True)
    (home / "inbox" / "demo-volumes").mkdir(exist_ok=True)
    config = home / CONFIG_NAME
    if force or not config.exists():
        config.write_text(DEFAULT_CONFIG, encoding="utf-8")
        created.append(config)
    return created
