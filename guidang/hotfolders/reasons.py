"""Why the watcher rejected a whole inbox entry: messages as data, Chinese first."""

from __future__ import annotations

REASONS: dict[str, tuple[str, str]] = {
    "symlink": (
        "收件箱中的“{name}”是符号链接（指向 {detail}），不跟随、不处理",
        "'{name}' in the inbox is a symbolic link (to {detail}); it is neither followed nor processed",
    ),
    "fifo": (
        "收件箱中的“{name}”是命名管道（FIFO），不打开、不处理",
        "'{name}' in the inbox is a FIFO; it is neither opened nor processed",
    ),
    "socket": (
        "收件箱中的“{name}”是套接字文件，不处理",
        "'{name}' in the inbox is a socket; it is not processed",
    ),
    "device": (
        "收件箱中的“{name}”是设备文件，不打开、不处理",
        "'{name}' in the inbox is a device file; it is neither opened nor processed",
    ),
    "undecodable": (
        "批次目录名无法解码（字节 {detail}），请用 UTF-8 或 GB18030 命名",
        "the batch folder name cannot be decoded (bytes {detail}); name it in UTF-8 or GB18030",
    ),
    "bad_name": (
        "批次目录名 {detail} 含控制字符或路径分隔符",
        "the batch folder name {detail} contains control characters or path separators",
    ),
    "nfc_collision": (
        "批次目录名“{name}”经 Unicode NFC 规范化后与“{detail}”相同，无法区分",
        "the batch folder name '{name}' is the same as '{detail}' after Unicode NFC normalisation",
    ),
    "marker_not_regular": (
        "READY 标记不是普通文件（链接或特殊文件）",
        "the READY marker is a link or special file",
    ),
    "marker_bad_manifest": (
        "READY 中指定的清单文件名 {detail} 无效",
        "the manifest named in READY ({detail}) is invalid",
    ),
    "manifest_not_regular": ("清单文件 {detail} 不是普通文件", "the manifest {detail} is not a regular file"),
    "manifest_missing": (
        "READY 指定的清单文件 {detail} 在静默期后仍不存在",
        "the manifest {detail} named in READY is still missing after the quiet period",
    ),
    "manifest_mismatch": (
        "清单文件摘要与 READY 不符（{detail}），静默期后仍未改变",
        "the manifest digest does not match READY ({detail}) and did not change within the quiet period",
    ),
    "worker_crashed": (
        "处理进程已崩溃 {count} 次（{detail}），批次拒收，完整保留",
        "the worker process crashed {count} times ({detail}); the batch is rejected and kept whole",
    ),
    "worker_error": (
        "处理出错 {count} 次（{detail}），批次拒收，完整保留",
        "processing failed {count} times ({detail}); the batch is rejected and kept whole",
    ),
    "batch_failed": (
        "批次无法处理（目录文件不可用等，详见回执）",
        "the batch could not be processed at all (no usable catalogue, see the receipt)",
    ),
    "zip_unreadable": (
        "ZIP 文件“{name}”无法读取（不完整或已损坏：{detail}）",
        "the ZIP file '{name}' cannot be read (incomplete or corrupt: {detail})",
    ),
    "zip_encrypted": (
        "ZIP 文件“{name}”中的“{detail}”已加密，请提交未加密的文件",
        "'{detail}' in the ZIP file '{name}' is encrypted; deliver it unencrypted",
    ),
    "zip_bad_member": (
        "ZIP 文件“{name}”中的条目 {detail} 不安全（链接、特殊文件、重复或仅大小写不同的名称、既是文件又是目录、"
        "越出批次目录的名称），整个文件未解压",
        "the entry {detail} in the ZIP file '{name}' is unsafe (a link, special file, a name repeated or differing "
        "only in case, a file that is also a folder, or a name escaping the batch); nothing was unpacked",
    ),
    "zip_too_large": (
        "ZIP 文件“{name}”解压后超过允许的大小（{detail}），疑似压缩炸弹，未解压",
        "the ZIP file '{name}' unpacks to more than allowed ({detail}): a possible zip bomb, not unpacked",
    ),
    "zip_ratio": (
        "ZIP 文件“{name}”压缩比异常（{detail}），疑似压缩炸弹，未解压",
        "the ZIP file '{name}' expands far more than scans do ({detail}): a possible zip bomb, not unpacked",
    ),
    "missing": ("处理区中找不到已认领的批次", "the claimed batch is missing from the processing area"),
}


def message(reason: str, **params: object) -> tuple[str, str]:
    zh, en = REASONS[reason]
    return zh.format(**params), en.format(**params)
