"""WordPress import: posts per second and peak memory for generated exports of two sizes.

    python -m bench.wordpress_import [--small 2000] [--large 10000]

Each export is generated into a temporary file (half classic posts with a [caption] and a
see-also link, half Gutenberg posts with a heading, a quote, a list and an image), then imported
by `cms import wordpress --wxr` logic in a child process of its own, into a fresh database, so
the child's peak resident set size (VmHWM, Linux) is the import's alone. Two baselines run in
the same run: reading the same file with the streaming parser alone (no mapping, no database),
and `--writes` articles of the same size written the ordinary way (the service's create, then
publish: what an editor's two requests cost, without HTTP) on as many connections as the import
uses. The import rate is given as a share of the second: what moving a post in costs next to
writing one. Memory that does not grow with the
file shows as a large/small peak RSS ratio near 1 while the file grows five times.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import DEFAULT_SERVER_DSN, scratch_database

_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<rss version="2.0" xmlns:excerpt="http://wordpress.org/export/1.2/excerpt/"
 xmlns:content="http://purl.org/rss/1.0/modules/content/" xmlns:dc="http://purl.org/dc/elements/1.1/"
 xmlns:wp="http://wordpress.org/export/1.2/">
<channel><title>Bench</title><link>https://bench.example</link><language>de-DE</language>
<wp:wxr_version>1.2</wp:wxr_version><wp:base_site_url>https://bench.example</wp:base_site_url>
<wp:base_blog_url>https://bench.example</wp:base_blog_url>
<wp:author><wp:author_login><![CDATA[bench]]></wp:author_login>
<wp:author_display_name><![CDATA[Bench Autorin]]></wp:author_display_name></wp:author>
"""
_PARAGRAPH = "Die Regierung hat am Donnerstag neue Maßnahmen beschlossen, die ab dem kommenden Monat gelten. "


def _content(n: int) -> str:
    text = _PARAGRAPH * 6
    if n % 2:
        return (
            f'{text}\n\n{text}\n\n[caption id="attachment_{n}" width="640"]'
            f'<img src="https://bench.example/wp-content/uploads/{n}.jpg" alt="Bild {n}" /> '
            f"Bildunterschrift {n}[/caption]\n\n{text}\n\n"
            f'Siehe auch: <a href="https://bench.example/2020/01/post-{max(n - 1, 1)}/">Vorher</a>'
        )
    return (
        f"<!-- wp:paragraph --><p>{text}</p><!-- /wp:paragraph -->"
        f"<!-- wp:heading --><h2>Zwischentitel {n}</h2><!-- /wp:heading -->"
        f'<!-- wp:quote --><blockquote class="wp-block-quote"><p>{_PARAGRAPH}</p><cite>Sprecherin</cite>'
        f"</blockquote><!-- /wp:quote -->"
        f"<!-- wp:list --><ul><li>eins</li><li>zwei</li><li>drei</li></ul><!-- /wp:list -->"
        f'<!-- wp:image --><figure class="wp-block-image"><img src="/wp-content/uploads/{n}.jpg" '
        f'alt="Bild"/><figcaption>Unterschrift</figcaption></figure><!-- /wp:image -->'
        f"<!-- wp:paragraph --><p>{text}</p><!-- /wp:paragraph -->"
    )


def generate(path: Path, posts: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(_HEAD)
        for n in range(1, posts + 1):
            out.write(
                f"<item><title>Meldung Nummer {n}: Neue Maßnahmen</title>"
                f"<link>https://bench.example/2020/01/post-{n}/</link>"
                f"<dc:creator><![CDATA[bench]]></dc:creator>"
                f"<content:encoded><![CDATA[{_content(n)}]]></content:encoded>"
                f"<excerpt:encoded><![CDATA[Der Vorspann zu Meldung {n}.]]></excerpt:encoded>"
                f"<wp:post_id>{n}</wp:post_id><wp:post_date_gmt>2020-01-01 08:00:00</wp:post_date_gmt>"
                f"<wp:post_name>post-{n}</wp:post_name><wp:status>publish</wp:status>"
                f"<wp:post_type>post</wp:post_type>"
                f'<category domain="category" nicename="politik"><![CDATA[Politik]]></category>'
                f'<category domain="post_tag" nicename="tag-{n % 50}"><![CDATA[Tag]]></category></item>\n'
            )
        out.write("</channel></rss>\n")


def _peak_rss_kib() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def child(mode: str, path: Path, dsn: str) -> None:
    """In the child: import (or only parse) and print the figures as JSON."""
    from cms.importers.wordpress import wxr
    from cms.importers.wordpress.from_file import import_wxr
    from cms.importers.wordpress.mapping import Options
    from cms.settings import Settings

    started = time.monotonic()
    if mode == "writes":
        count = asyncio.run(_ordinary_writes(dsn, int(path.name)))
    elif mode == "parse":
        known = wxr.survey(path)
        count = sum(1 for _ in wxr.posts(path, known))
    else:
        settings = Settings(database_url=dsn, log_level="warning", log_format="json")
        report = asyncio.run(import_wxr(settings, path, Options(post_to_social=False)))
        count = report.counts()["imported"]
        assert report.refused is None, report.refused
    seconds = time.monotonic() - started
    print(json.dumps({"posts": count, "seconds": seconds, "peak_rss_kib": _peak_rss_kib()}))


async def _ordinary_writes(dsn: str, count: int, workers: int = 4) -> int:
    """`count` articles created and published through the service, `workers` at a time."""
    from datetime import UTC, datetime

    from cms.articles import service
    from cms.articles.model import ArticleCreate
    from cms.platform import db
    from cms.platform.identity import Actor
    from cms.platform.tokens import Role
    from cms.settings import Settings

    settings = Settings(database_url=dsn)
    actor = Actor(name="bench", role=Role.editor)
    text = _PARAGRAPH * 6

    async def write(worker: int) -> None:
        async with db.connection(settings) as conn:
            for n in range(worker, count, workers):
                ctx = service.Context(actor=actor, now=datetime.now(UTC), correlation_id=None)
                fields = ArticleCreate.model_validate(
                    {
                        "title": f"Meldung Nummer {n}: Neue Maßnahmen",
                        "language": "de",
                        "lead": f"Der Vorspann zu Meldung {n}.",
                        "section": "politik",
                        "tags": [f"tag-{n % 50}"],
                        "authors": ["Bench Autorin"],
                        "body": [{"type": "paragraph", "text": text}] * 4,
                    }
                )
                created = await service.create(conn, fields, ctx)
                await service.publish(conn, created.id, None, None, ctx)

    await asyncio.gather(*(write(w) for w in range(workers)))
    return count


def _run_child(mode: str, path: Path, dsn: str) -> dict[str, float]:
    done = subprocess.run(  # noqa: S603 (our own interpreter and module, arguments we made)
        [sys.executable, "-m", "bench.wordpress_import", "--child", mode, str(path), dsn],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def main(small: int, large: int, writes: int, server_dsn: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        figures = {}
        for posts in (small, large):
            path = Path(tmp) / f"export-{posts}.xml"
            generate(path, posts)
            size = path.stat().st_size / 1e6
            parsed = _run_child("parse", path, "")
            async with scratch_database(server_dsn, "wpimport") as dsn:
                imported = _run_child("import", path, dsn)
            async with scratch_database(server_dsn, "wpwrites") as dsn:
                ordinary = _run_child("writes", Path(str(min(posts, writes))), dsn)
            figures[posts] = (size, parsed, imported)
            rate = imported["posts"] / imported["seconds"]
            parse_rate = parsed["posts"] / parsed["seconds"]
            write_rate = ordinary["posts"] / ordinary["seconds"]
            print(
                f"{posts:>6} posts, {size:6.1f} MB: import {rate:7.1f} posts/s "
                f"({imported['seconds']:.1f} s), peak RSS {imported['peak_rss_kib'] / 1024:6.1f} MiB | "
                f"parse only {parse_rate:8.1f} posts/s, "
                f"peak RSS {parsed['peak_rss_kib'] / 1024:6.1f} MiB | "
                f"ordinary create+publish {write_rate:6.1f} articles/s | "
                f"import/ordinary {rate / write_rate:.2f}"
            )
        small_rss = figures[small][2]["peak_rss_kib"]
        large_rss = figures[large][2]["peak_rss_kib"]
        print(
            f"file grew {figures[large][0] / figures[small][0]:.1f}x; import peak RSS grew "
            f"{large_rss / small_rss:.2f}x ({small_rss / 1024:.1f} -> {large_rss / 1024:.1f} MiB)"
        )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
        raise SystemExit(0)
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--small", type=int, default=2000)
    parser.add_argument("--large", type=int, default=10000)
    parser.add_argument("--writes", type=int, default=1000, help="articles in the ordinary-write baseline")
    parser.add_argument("--server-dsn", default=DEFAULT_SERVER_DSN)
    arguments = parser.parse_args()
    os.environ.setdefault("CMS_LOG_LEVEL", "warning")
    asyncio.run(main(arguments.small, arguments.large, arguments.writes, arguments.server_dsn))
