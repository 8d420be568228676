"""Media in an S3-compatible bucket: real boto3 over HTTP against moto's server on 127.0.0.1
(no mocks), with the real audio pipeline and ffmpeg."""

from __future__ import annotations

import hashlib
import pickle
import stat
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bots.app import build, media_bucket, sweep_media
from bots.audio import (
    AudioStoreError,
    ObjectStoreError,
    PocketsphinxTranscriber,
    PydubAudioProcessor,
    S3Bucket,
    S3Location,
)
from bots.settings import Settings
from core.capabilities import AudioFormat
from tests.support.s3 import client, free_port, moto_s3, new_bucket, object_names

AUDIO = Path(__file__).resolve().parents[1] / "fixtures" / "audio"
MAX_BYTES = 20 * 1024 * 1024
PREFIX = "prod/media"


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    with moto_s3() as url:
        yield url


@pytest.fixture
def location(endpoint: str) -> S3Location:
    return S3Location(new_bucket(endpoint), PREFIX, endpoint)


def processor(root: Path, location: S3Location, **options: object) -> PydubAudioProcessor:
    return PydubAudioProcessor(root, bucket=S3Bucket(location), **options)  # type: ignore[arg-type]


async def ingest(audio: PydubAudioProcessor, key: str, name: str = "voice.ogg",
                 mime: str = "audio/ogg") -> str:
    stored = await audio.ingest((AUDIO / name).read_bytes(), mime, key=key, max_seconds=60,
                                max_bytes=MAX_BYTES)
    return stored.checksum


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()
                  ) if root.exists() else []


async def test_ingest_uploads_the_verified_file_privately_with_its_checksum(
        tmp_path: Path, location: S3Location, endpoint: str) -> None:
    audio = processor(tmp_path / "a", location)
    checksum = await ingest(audio, "iv1/take1")

    name = f"{PREFIX}/iv1/take1.ogg"
    assert object_names(endpoint, location.bucket) == [name]  # no review copies, no original
    s3 = client(endpoint)
    got = s3.get_object(Bucket=location.bucket, Key=name)
    body = got["Body"].read()
    assert hashlib.sha256(body).hexdigest() == checksum
    assert body == (tmp_path / "a" / "iv1" / "take1.ogg").read_bytes()
    assert got["Metadata"] == {"sha256": checksum}
    assert got["ContentType"] == "audio/ogg"
    grants = s3.get_object_acl(Bucket=location.bucket, Key=name)["Grants"]
    assert [g["Permission"] for g in grants] == ["FULL_CONTROL"]  # the owner only: no public ACL
    assert all(g["Grantee"].get("Type") == "CanonicalUser" for g in grants)
    # the working copy stays as it was: 0600 in 0700 folders
    local = tmp_path / "a" / "iv1" / "take1.ogg"
    assert stat.S_IMODE(local.stat().st_mode) == 0o600


async def test_kept_originals_go_to_the_bucket_too(tmp_path: Path, location: S3Location,
                                                   endpoint: str) -> None:
    audio = processor(tmp_path / "a", location, keep_originals=True)
    await ingest(audio, "iv1/take1", "voice.mp3", "audio/mpeg")
    assert object_names(endpoint, location.bucket) == [
        f"{PREFIX}/iv1/take1.ogg", f"{PREFIX}/iv1/take1.orig.mp3"]


async def test_a_second_process_with_an_empty_folder_reviews_and_reels_from_the_bucket(
        tmp_path: Path, location: S3Location, endpoint: str) -> None:
    first = processor(tmp_path / "first", location)
    one = await ingest(first, "iv1/take1")
    two = await ingest(first, "iv1/take2", "voice.m4a", "audio/x-m4a")

    # another process behind the load balancer: its own folder, its own client
    second = processor(tmp_path / "second", location)
    assert files_under(tmp_path / "second") == []
    path, mime = await second.review_copy("iv1/take1", fmt=AudioFormat.M4A_AAC)
    assert mime == "audio/mp4" and Path(path).is_file()
    assert Path(path).is_relative_to(tmp_path / "second")
    fetched = tmp_path / "second" / "iv1" / "take1.ogg"
    assert hashlib.sha256(fetched.read_bytes()).hexdigest() == one
    assert stat.S_IMODE(fetched.stat().st_mode) == 0o600

    reel = await second.reel([("Q1", "iv1/take1"), ("Q2", "iv1/take2")], key="iv1/reel")
    assert [c.title for c in reel.chapters] == ["Q1", "Q2"] and reel.duration > 10
    assert hashlib.sha256((tmp_path / "second/iv1/take2.ogg").read_bytes()).hexdigest() == two
    assert f"{PREFIX}/iv1/reel.ogg" in object_names(endpoint, location.bucket)
    reel_path, _ = await second.review_copy("iv1/reel", fmt=AudioFormat.OGG_OPUS)
    assert Path(reel_path).is_file()

    # a third one gets the reel itself from the bucket
    third = processor(tmp_path / "third", location)
    path, mime = await third.review_copy("iv1/reel", fmt=AudioFormat.OGG_OPUS)
    assert mime == "audio/ogg" and Path(path).is_file()
    # the review copies stay in the working folders
    assert not any(".review." in n for n in object_names(endpoint, location.bucket))
    with pytest.raises(FileNotFoundError):
        await third.review_copy("iv1/never-stored", fmt=AudioFormat.OGG_OPUS)


async def test_a_damaged_object_is_refused(tmp_path: Path, location: S3Location,
                                           endpoint: str) -> None:
    await ingest(processor(tmp_path / "a", location), "iv1/take1")
    name = f"{PREFIX}/iv1/take1.ogg"
    s3 = client(endpoint)
    head = s3.head_object(Bucket=location.bucket, Key=name)
    s3.put_object(Bucket=location.bucket, Key=name, Body=(AUDIO / "tone.ogg").read_bytes(),
                  Metadata=head["Metadata"])  # same recorded checksum, other bytes
    other = processor(tmp_path / "b", location)
    with pytest.raises(ObjectStoreError, match="does not match its SHA-256"):
        await other.review_copy("iv1/take1", fmt=AudioFormat.OGG_OPUS)
    assert files_under(tmp_path / "b") == []


async def test_transcription_fetches_a_missing_clip(tmp_path: Path,
                                                    location: S3Location) -> None:
    await ingest(processor(tmp_path / "a", location), "iv1/take1")
    with ThreadPoolExecutor(1) as pool:
        transcriber = PocketsphinxTranscriber(tmp_path / "b", executor=pool,
                                              bucket=S3Bucket(location))
        text = await transcriber.transcribe("iv1/take1")
    assert text is not None and {"billing", "service"} <= set(text.split())
    assert (tmp_path / "b" / "iv1" / "take1.ogg").is_file()


async def test_delete_removes_objects_and_files(tmp_path: Path, location: S3Location,
                                                endpoint: str) -> None:
    audio = processor(tmp_path / "a", location, keep_originals=True)
    await ingest(audio, "iv1/take1", "voice.mp3", "audio/mpeg")
    await ingest(audio, "iv1/take10")  # shares a name prefix: must survive
    await audio.review_copy("iv1/take1", fmt=AudioFormat.M4A_AAC)
    assert len(object_names(endpoint, location.bucket, f"{PREFIX}/iv1/take1.")) == 2
    audio.delete("iv1/take1")  # on the event loop: the bucket part runs in the executor
    await audio.drain()
    survivors = [f"{PREFIX}/iv1/take10.ogg", f"{PREFIX}/iv1/take10.orig.ogg"]
    assert object_names(endpoint, location.bucket) == survivors
    assert files_under(tmp_path / "a") == ["iv1/take10.ogg", "iv1/take10.orig.ogg",
                                           "iv1/take10.review.m4a", "iv1/take10.review.ogg"]
    # a derived object someone else put there goes too
    S3Bucket(location).upload(AUDIO / "voice.ogg", "iv1/take10", "review.ogg")
    audio.delete("iv1/take10")
    await audio.drain()
    assert object_names(endpoint, location.bucket) == []
    assert files_under(tmp_path / "a") == []


def test_delete_without_an_event_loop_waits_and_raises(tmp_path: Path, location: S3Location,
                                                       endpoint: str) -> None:
    bucket = S3Bucket(location)
    bucket.upload(AUDIO / "voice.ogg", "iv1/take1", "ogg")
    audio = PydubAudioProcessor(tmp_path / "a", bucket=bucket)
    audio.delete("iv1/take1")  # as `interviewbot purge` does: done when it returns
    assert object_names(endpoint, location.bucket) == []
    down = PydubAudioProcessor(tmp_path / "a", bucket=S3Bucket(
        S3Location(location.bucket, PREFIX, f"http://127.0.0.1:{free_port()}")))
    with pytest.raises(ObjectStoreError, match="cannot reach the object store"):
        down.delete("iv1/take1")


async def test_a_failed_background_delete_is_logged_not_raised(
        tmp_path: Path, location: S3Location, caplog: pytest.LogCaptureFixture) -> None:
    down = PydubAudioProcessor(tmp_path / "a", bucket=S3Bucket(
        S3Location(location.bucket, PREFIX, f"http://127.0.0.1:{free_port()}")))
    down.delete("iv1/take1")
    await down.drain()
    assert "the orphan sweep will retry" in caplog.text


async def test_a_missing_bucket_is_a_clear_error_and_nothing_is_kept(
        tmp_path: Path, endpoint: str) -> None:
    audio = processor(tmp_path / "a", S3Location("no-such-bucket", PREFIX, endpoint))
    with pytest.raises(AudioStoreError) as raised:
        await ingest(audio, "iv1/take1")
    assert str(raised.value) == (
        "could not store 'iv1/take1' in the bucket: upload "
        f"s3://no-such-bucket/{PREFIX}/iv1/take1.ogg at {endpoint}: the bucket "
        f"'no-such-bucket' does not exist at {endpoint}")
    assert files_under(tmp_path / "a") == []  # the take is never committed: nothing is left
    with pytest.raises(ObjectStoreError, match="'no-such-bucket' does not exist"):
        S3Bucket(S3Location("no-such-bucket", PREFIX, endpoint)).check()
    with pytest.raises(ObjectStoreError, match="'no-such-bucket' does not exist"):
        await audio.review_copy("iv1/take1", fmt=AudioFormat.OGG_OPUS)


async def test_an_unreachable_endpoint_is_a_clear_error(tmp_path: Path) -> None:
    down = f"http://127.0.0.1:{free_port()}"
    audio = processor(tmp_path / "a", S3Location("media", "", down))
    with pytest.raises(AudioStoreError,
                       match=f"upload s3://media/iv1/take1.ogg at {down}: cannot reach the "
                             f"object store at {down}"):
        await ingest(audio, "iv1/take1")
    assert files_under(tmp_path / "a") == []
    with pytest.raises(ObjectStoreError, match="cannot reach the object store"):
        S3Bucket(S3Location("media", "", down)).check()


def test_missing_credentials_are_a_clear_error(location: S3Location,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(ObjectStoreError, match="no AWS credentials: set AWS_ACCESS_KEY_ID"):
        S3Bucket(location).check()


def test_keys_stay_ids_and_urls_are_checked(tmp_path: Path, location: S3Location) -> None:
    bucket = S3Bucket(location)
    for bad in ("../x", "a/../b", "/abs", "a b", "a/b.ogg", ""):
        with pytest.raises(ValueError, match="invalid media key"):
            bucket.name(bad, "ogg")
        with pytest.raises(ValueError, match="invalid media key"):
            bucket.delete(bad)
    assert S3Location.parse("s3://media-bucket") == S3Location("media-bucket")
    assert S3Location.parse("s3://media-bucket/a/b/", "http://minio:9000/") == S3Location(
        "media-bucket", "a/b", "http://minio:9000")
    for bad_url in ("media", "s3://", "s3://Bad_Bucket/x", "s3://bucket/../x", "s3://b",
                    "http://bucket/x", "s3://bucket//x"):
        with pytest.raises(ValueError, match="should look like s3://bucket"):
            S3Location.parse(bad_url)
    with pytest.raises(ValueError, match="should be an http"):
        S3Location.parse("s3://bucket", "minio:9000")
    # picklable for a process pool: the client is made again on the other side
    bucket.check()
    copy = pickle.loads(pickle.dumps(bucket))
    assert copy.location == location and copy._client is None
    copy.check()


def settings_for(tmp_path: Path, **env: str | None) -> Settings:
    values: dict[str, str | None] = {"DATABASE_URL": f"sqlite:///{tmp_path / 'ib.db'}",
                                     "INTERVIEWBOT_DATA_DIR": str(tmp_path / "data")}
    values.update(env)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


async def test_build_wires_the_bucket_from_the_settings(tmp_path: Path, location: S3Location,
                                                        endpoint: str) -> None:
    settings = settings_for(tmp_path, INTERVIEWBOT_MEDIA_S3_URL=f"s3://{location.bucket}/prod",
                            INTERVIEWBOT_MEDIA_S3_ENDPOINT=endpoint)
    app = build(settings)
    try:
        audio = app.services.audio
        assert isinstance(audio, PydubAudioProcessor) and audio.bucket is not None
        assert audio.bucket.location == S3Location(location.bucket, "prod", endpoint)
        checksum = await ingest(audio, "iv9/take1")
        body = client(endpoint).get_object(Bucket=location.bucket, Key="prod/iv9/take1.ogg")
        assert hashlib.sha256(body["Body"].read()).hexdigest() == checksum
        assert (settings.media_dir / "iv9" / "take1.ogg").is_file()
        report = sweep_media(app)  # the interview is unknown to this database: kept
        assert report.keys == () and report.objects == 0
    finally:
        app.db.dispose()

    assert media_bucket(settings_for(tmp_path)) is None  # the default: the folder only
    with pytest.raises(ValueError, match="INTERVIEWBOT_MEDIA_S3_URL"):
        media_bucket(settings_for(tmp_path, INTERVIEWBOT_MEDIA_S3_ENDPOINT=endpoint))
    with pytest.raises(ValueError, match="should look like s3://bucket"):
        build(settings_for(tmp_path, INTERVIEWBOT_MEDIA_S3_URL="bucket/prefix"))
