"""`rekcli serve` end to end: a real server process, real boto3 and aws CLI clients, real photos."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cli_helpers import import_test_extra

boto3 = import_test_extra("boto3")
import botocore  # noqa: E402
from botocore.config import Config  # noqa: E402

REKCLI = [sys.executable, "-m", "rekcli"]
AWS = Path(sys.executable).with_name("aws")


def _aws_cli_missing():
    """The aws CLI comes with the test extra: absent is a skip on a dev box, a failure on CI."""
    if os.environ.get("CI"):
        pytest.fail(f"the aws CLI (test extra) is not installed at {AWS}")
    pytest.skip("the aws CLI (test extra) is not installed")


def client_env(data_dir: Path) -> dict:
    env = dict(os.environ)
    env.update(REKCLI_DATA_DIR=str(data_dir), AWS_ACCESS_KEY_ID="test",
               AWS_SECRET_ACCESS_KEY="test", AWS_EC2_METADATA_DISABLED="true",
               AWS_RETRY_MODE="standard", AWS_MAX_ATTEMPTS="1", AWS_DEFAULT_REGION="us-east-1",
               AWS_CONFIG_FILE=str(data_dir / "no-config"), AWS_PAGER="")
    return env


class Server:
    def __init__(self, data_dir: Path, *options: str):
        self.data_dir = data_dir
        self.process = subprocess.Popen(
            REKCLI + ["serve", "--port", "0", *options], stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, env=client_env(data_dir), text=True)
        line = self.process.stdout.readline()
        assert "listening on" in line, self.process.stderr.read()
        self.url = line.split()[-1]
        self.port = int(self.url.rsplit(":", 1)[1])

    def client(self, **config):
        return boto3.client("rekognition", endpoint_url=self.url, region_name="us-east-1",
                            aws_access_key_id="test", aws_secret_access_key="test",
                            config=Config(retries={"max_attempts": 1, "mode": "standard"},
                                          **config))

    def raw(self, body: bytes, target: str | None = "RekognitionService.ListCollections",
            method: str = "POST", headers: dict | None = None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        all_headers = {"Content-Type": "application/x-amz-json-1.1", **(headers or {})}
        if target:
            all_headers["X-Amz-Target"] = target
        connection.request(method, "/", body=body, headers=all_headers)
        response = connection.getresponse()
        payload = response.read()
        connection.close()
        return response, json.loads(payload) if payload else None

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=30)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("serve-data"), "--workers", "1",
                     "--max-body-bytes", "8000000")
    yield running
    running.stop()


def photo(faces_dir: Path, name: str) -> bytes:
    return (faces_dir / "people" / name).read_bytes()


def test_metadata_operations_and_modelled_errors(server):
    client = server.client()
    assert client.create_collection(CollectionId="meta")["CollectionArn"].endswith(
        ":collection/meta")
    assert "meta" in client.list_collections()["CollectionIds"]
    described = client.describe_collection(CollectionId="meta")
    arn = described["CollectionARN"]
    assert described["FaceCount"] == 0 and described["CreationTimestamp"].year >= 2024
    client.tag_resource(ResourceArn=arn, Tags={"team": "a"})
    assert client.list_tags_for_resource(ResourceArn=arn)["Tags"] == {"team": "a"}
    client.untag_resource(ResourceArn=arn, TagKeys=["team"])
    client.create_user(CollectionId="meta", UserId="u1")
    assert [u["UserId"] for u in client.list_users(CollectionId="meta")["Users"]] == ["u1"]
    client.delete_user(CollectionId="meta", UserId="u1")
    with pytest.raises(client.exceptions.ResourceAlreadyExistsException):
        client.create_collection(CollectionId="meta")
    with pytest.raises(client.exceptions.ResourceNotFoundException) as caught:
        client.describe_collection(CollectionId="missing")
    error = caught.value.response
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"] == \
        "ResourceNotFoundException"
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.list_collections(MaxResults=100000)
    client.delete_collection(CollectionId="meta")


def test_face_operations_and_paginator(server, faces_dir):
    client = server.client()
    client.create_collection(CollectionId="faces")
    biden, biden2 = photo(faces_dir, "biden/biden.jpg"), photo(faces_dir, "biden/biden2.jpg")
    indexed = client.index_faces(CollectionId="faces", Image={"Bytes": biden},
                                 ExternalImageId="b1")["FaceRecords"]
    client.index_faces(CollectionId="faces", Image={"Bytes": biden2}, ExternalImageId="b2")
    pages = list(client.get_paginator("list_faces").paginate(
        CollectionId="faces", PaginationConfig={"PageSize": 1}))
    assert len(pages) >= 2
    assert sum(len(page["Faces"]) for page in pages) == 2
    face_id = indexed[0]["Face"]["FaceId"]
    assert client.search_faces(CollectionId="faces", FaceId=face_id)["FaceMatches"]
    found = client.search_faces_by_image(CollectionId="faces", Image={"Bytes": biden2})
    assert found["FaceMatches"][0]["Face"]["ExternalImageId"] in ("b1", "b2")
    assert len(client.detect_faces(Image={"Bytes": biden})["FaceDetails"]) == 1
    compared = client.compare_faces(SourceImage={"Bytes": biden}, TargetImage={"Bytes": biden2})
    assert compared["FaceMatches"][0]["Similarity"] > 90
    with pytest.raises(client.exceptions.InvalidParameterException):
        client.compare_faces(SourceImage={"Bytes": photo(faces_dir, "../noface/" + sorted(
            os.listdir(faces_dir / "noface"))[0])}, TargetImage={"Bytes": biden2})
    client.create_user(CollectionId="faces", UserId="joe")
    associated = client.associate_faces(CollectionId="faces", UserId="joe", FaceIds=[face_id])
    assert [f["FaceId"] for f in associated["AssociatedFaces"]] == [face_id]
    assert client.search_users(CollectionId="faces", FaceId=face_id)["UserMatches"]
    by_image = client.search_users_by_image(CollectionId="faces", Image={"Bytes": biden2})
    assert by_image["UserMatches"][0]["User"]["UserId"] == "joe"
    client.disassociate_faces(CollectionId="faces", UserId="joe", FaceIds=[face_id])
    client.delete_faces(CollectionId="faces", FaceIds=[face_id])


def test_unsigned_requests_use_the_default_region_and_signed_ones_their_scope(server):
    unsigned = server.client(signature_version=botocore.UNSIGNED)
    unsigned.create_collection(CollectionId="regional")
    eu = boto3.client("rekognition", endpoint_url=server.url, region_name="eu-west-1",
                      aws_access_key_id="test", aws_secret_access_key="test",
                      config=Config(retries={"max_attempts": 1}))
    with pytest.raises(eu.exceptions.ResourceNotFoundException):
        eu.describe_collection(CollectionId="regional")
    assert server.client().describe_collection(CollectionId="regional")["FaceCount"] == 0


def test_front_door_errors(server):
    response, body = server.raw(b"{}", target="RekognitionService.NoSuchThing")
    assert response.status == 400 and body["__type"] == "UnknownOperationException"
    response, body = server.raw(b"{not json")
    assert response.status == 400 and body["__type"] == "SerializationException"
    assert response.getheader("Content-Type") == "application/x-amz-json-1.1"
    assert response.getheader("x-amzn-RequestId")
    response, body = server.raw(b"[]")
    assert body["__type"] == "SerializationException"
    response, body = server.raw(b"", method="GET")
    assert response.status == 400 and "__type" in body
    response, body = server.raw(b"x" * 9_000_000)
    assert response.status == 413 and body["__type"] == "RequestEntityTooLargeException"
    response, body = server.raw(b'{"CollectionId": null}',
                                target="RekognitionService.DescribeCollection")
    assert response.status == 400 and body["__type"] == "InvalidParameterException"
    response, body = server.raw(b'{"Image": {"Bytes": "!!"}}',
                                target="RekognitionService.DetectFaces")
    assert response.status == 400 and body["__type"] == "SerializationException"
    response, body = server.raw(b"")  # an empty body is {}
    assert response.status == 200 and "CollectionIds" in body


def test_a_body_nested_past_the_stack_is_a_serialization_error(server):
    deep = b'{"CollectionId": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response, body = server.raw(deep)
    assert response.status == 400 and body["__type"] == "SerializationException"
    assert server.raw(b"{}")[0].status == 200  # and the server goes on


def test_malformed_http_gets_a_json_error_not_html(server):
    import socket

    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(b"BLAH\r\n\r\n")
        answer = b""
        while chunk := sock.recv(65536):  # the server closes after a malformed request
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 400")
    assert b"<html" not in answer.lower() and b"__type" in answer


def test_eight_clients_of_twenty_five_requests(server):
    server.client().create_collection(CollectionId="busy")
    failures = []

    def run_client():
        client = server.client()
        try:
            for _ in range(25):
                assert client.describe_collection(CollectionId="busy")["FaceCount"] == 0
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            failures.append(error)

    threads = [threading.Thread(target=run_client) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []


def test_server_and_local_cli_print_the_same(server, faces_dir, tmp_path):
    pair = ["--source-image-bytes", f"fileb://{faces_dir / 'people/biden/biden.jpg'}",
            "--target-image-bytes", f"fileb://{faces_dir / 'people/biden/biden2.jpg'}",
            "--output", "json"]
    local = subprocess.run(REKCLI + ["compare-faces", *pair], capture_output=True, text=True,
                           env=client_env(tmp_path))
    if not AWS.exists():
        _aws_cli_missing()
    remote = subprocess.run([str(AWS), "rekognition", "compare-faces", *pair,
                             "--endpoint-url", server.url], capture_output=True, text=True,
                            env=client_env(tmp_path))
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert json.loads(local.stdout) == json.loads(remote.stdout)
    image = ["--image-bytes", f"fileb://{faces_dir / 'people/biden/biden.jpg'}",
             "--attributes", "ALL", "--output", "json"]
    local = subprocess.run(REKCLI + ["detect-faces", *image], capture_output=True, text=True,
                           env=client_env(tmp_path))
    remote = subprocess.run([str(AWS), "rekognition", "detect-faces", *image, "--no-sign-request",
                             "--endpoint-url", server.url], capture_output=True, text=True,
                            env=client_env(tmp_path))
    assert local.returncode == remote.returncode == 0, remote.stderr
    assert json.loads(local.stdout) == json.loads(remote.stdout)


def test_aws_cli_reports_service_errors(server, tmp_path):
    if not AWS.exists():
        _aws_cli_missing()
    result = subprocess.run([str(AWS), "rekognition", "describe-collection", "--collection-id",
                             "absent", "--endpoint-url", server.url], capture_output=True,
                            text=True, env=client_env(tmp_path))
    assert result.returncode == 255  # awscli v1's code for a service error
    assert "An error occurred (ResourceNotFoundException) when calling the " \
           "DescribeCollection operation" in result.stderr


def _descendants(pid: int) -> dict[int, int]:
    """pid -> parent pid for every process below `pid`."""
    parents = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = {}, [pid]
    while frontier:
        parent = frontier.pop()
        for child, its_parent in parents.items():
            if its_parent == parent:
                found[child] = parent
                frontier.append(child)
    return found


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_until_busy(idle_ticks: dict[int, int]) -> None:
    """Until every worker has used CPU since `idle_ticks` was taken: each has a request."""
    for _ in range(5000):
        if all(_cpu_ticks(pid) > ticks for pid, ticks in idle_ticks.items()):
            return
        time.sleep(0.002)


def _alive(pid: int) -> bool:
    try:
        return "zombie" not in Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False


def test_killed_worker_fails_its_request_and_is_replaced(tmp_path, faces_dir):
    running = Server(tmp_path / "data", "--workers", "1")
    try:
        biden = photo(faces_dir, "biden/biden.jpg")
        client = running.client()
        client.detect_faces(Image={"Bytes": biden})  # the worker is up and warm
        # Workers are the forkserver's children: grandchildren of the server.
        workers = [pid for pid, parent in _descendants(running.process.pid).items()
                   if parent != running.process.pid]
        assert workers
        results = []
        # Another photo than the warm-up's: the worker remembers that one's faces, and
        # would answer before the kill.
        request_body = json.dumps({"Image": {"Bytes": __import__("base64").b64encode(
            photo(faces_dir, "biden/biden2.jpg")).decode()}}).encode()
        idle_ticks = {pid: _cpu_ticks(pid) for pid in workers}
        request = threading.Thread(target=lambda: results.append(
            running.raw(request_body, target="RekognitionService.DetectFaces")))
        request.start()
        _wait_until_busy(idle_ticks)
        for pid in workers:
            os.kill(pid, signal.SIGKILL)
        request.join()
        response, body = results[0]
        assert response.status == 500 and body["__type"] == "InternalServerError"
        # The replacement worker serves the same request again ...
        assert len(client.detect_faces(Image={"Bytes": biden})["FaceDetails"]) == 1
        # ... but an SDK retry of the request that was running when a worker died is refused,
        # so a body that crashes workers cannot take them down five times over.
        response, body = running.raw(request_body, target="RekognitionService.DetectFaces",
                                     headers={"amz-sdk-request": "attempt=2; max=5"})
        assert response.status == 400 and body["__type"] == "InvalidParameterException"
    finally:
        assert running.stop() == 0


def test_killed_worker_fails_only_its_own_request(tmp_path, faces_dir):
    import base64

    running = Server(tmp_path / "data", "--workers", "2")
    try:
        workers = [pid for pid, parent in _descendants(running.process.pid).items()
                   if parent != running.process.pid]
        assert len(workers) == 2
        body = json.dumps({"SourceImage": {"Bytes": base64.b64encode(photo(
            faces_dir, "biden/biden.jpg")).decode()}, "TargetImage": {"Bytes": base64.b64encode(
            photo(faces_dir, "biden/biden2.jpg")).decode()}}).encode()
        results = []
        requests = [threading.Thread(target=lambda: results.append(
            running.raw(body, target="RekognitionService.CompareFaces"))) for _ in range(2)]
        idle_ticks = {pid: _cpu_ticks(pid) for pid in workers}
        for request in requests:
            request.start()
        _wait_until_busy(idle_ticks)
        os.kill(workers[0], signal.SIGKILL)
        for request in requests:
            request.join()
        outcomes = sorted((response.status, answer.get("__type")) for response, answer in results)
        assert outcomes == [(200, None), (500, "InternalServerError")]
        answered = next(answer for response, answer in results if response.status == 200)
        assert answered["FaceMatches"][0]["Similarity"] > 90
        # The dead worker was replaced: two requests at once are both answered.
        results.clear()
        requests = [threading.Thread(target=lambda: results.append(
            running.raw(body, target="RekognitionService.CompareFaces"))) for _ in range(2)]
        for request in requests:
            request.start()
        for request in requests:
            request.join()
        assert [response.status for response, _ in results] == [200, 200]
    finally:
        assert running.stop() == 0


def test_killed_server_leaves_no_worker_behind(tmp_path):
    running = Server(tmp_path / "data", "--workers", "2")
    below = list(_descendants(running.process.pid))
    assert len(below) >= 3  # the forkserver and two workers
    running.process.kill()
    running.process.wait()
    for _ in range(100):
        if not any(_alive(pid) for pid in below):
            break
        time.sleep(0.1)
    assert [pid for pid in below if _alive(pid)] == []
    running.stop()


def test_full_queue_answers_throttling(tmp_path, faces_dir):
    running = Server(tmp_path / "data", "--workers", "1", "--queue-size", "0")
    try:
        body = json.dumps({"Image": {"Bytes": __import__("base64").b64encode(
            photo(faces_dir, "biden/biden.jpg")).decode()}}).encode()
        results = []
        threads = [threading.Thread(target=lambda: results.append(
            running.raw(body, target="RekognitionService.DetectFaces"))) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        codes = sorted((response.status, (answer or {}).get("__type")) for response, answer in results)
        assert (400, "ThrottlingException") in codes and codes[0][0] == 200
    finally:
        assert running.stop() == 0


def test_sigterm_answers_the_request_in_flight_then_exits_zero(tmp_path, faces_dir):
    import base64

    running = Server(tmp_path / "data", "--workers", "1")
    body = json.dumps({"Image": {"Bytes": base64.b64encode(
        photo(faces_dir, "biden/biden.jpg")).decode()}}).encode()
    results = []
    request = threading.Thread(target=lambda: results.append(
        running.raw(body, target="RekognitionService.DetectFaces")))
    request.start()
    time.sleep(0.1)
    assert running.stop() == 0
    request.join()
    assert results[0][0].status == 200


def rekcli(env: dict, *args: str):
    return subprocess.run(REKCLI + list(args), capture_output=True, text=True, env=env)


def test_endpoint_url_client_prints_what_the_local_cli_prints(server, faces_dir):
    # The client and the server share one data dir, so the local run sees the same collection.
    env = client_env(server.data_dir)
    assert rekcli(env, "create-collection", "--collection-id", "same", "--endpoint-url",
                  server.url).returncode == 0
    for args in (["describe-collection", "--collection-id", "same"],
                 ["describe-collection", "--collection-id", "absent"],
                 ["list-collections", "--output", "text"],
                 ["compare-faces", "--source-image-bytes",
                  f"fileb://{faces_dir / 'people/biden/biden.jpg'}", "--target-image-bytes",
                  f"fileb://{faces_dir / 'people/biden/biden2.jpg'}"]):
        local = rekcli(env, *args)
        remote = rekcli(env, *args, "--endpoint-url", server.url)
        assert (remote.returncode, remote.stdout, remote.stderr) == \
            (local.returncode, local.stdout, local.stderr), args


def test_endpoint_from_environment_and_profile(server, tmp_path):
    env = client_env(server.data_dir)
    rekcli(env, "create-collection", "--collection-id", "configured", "--endpoint-url", server.url)
    # A data dir the local path would find empty: success proves the call went to the server.
    env["REKCLI_DATA_DIR"] = str(tmp_path / "elsewhere")
    for name in ("AWS_ENDPOINT_URL_REKOGNITION", "AWS_ENDPOINT_URL"):
        result = rekcli({**env, name: server.url}, "describe-collection", "--collection-id",
                        "configured")
        assert result.returncode == 0, (name, result.stderr)
    config = tmp_path / "config"
    config.write_text(f"[default]\nendpoint_url = {server.url}\n")
    result = rekcli({**env, "AWS_CONFIG_FILE": str(config)}, "describe-collection",
                    "--collection-id", "configured")
    assert result.returncode == 0, result.stderr
    config.write_text(f"[default]\nservices = local\n[services local]\nrekognition =\n"
                      f"  endpoint_url = {server.url}\n")
    result = rekcli({**env, "AWS_CONFIG_FILE": str(config)}, "describe-collection",
                    "--collection-id", "configured")
    assert result.returncode == 0, result.stderr
    ignored = rekcli({**env, "AWS_ENDPOINT_URL": server.url,
                      "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
                     "describe-collection", "--collection-id", "configured")
    assert ignored.returncode == 254


def test_endpoint_client_imports_no_engine_and_no_store(server):
    # The client opens no local store, so it neither imports one nor checks its folders.
    probe = ("import sys\nfrom rekcli.cli.main import main\n"
             f"code = main(['list-collections', '--endpoint-url', '{server.url}'])\n"
             "heavy = sorted({'numpy', 'cv2', 'dlib', 'botocore', 'rekcli.store', "
             "'rekcli.engine'} & set(sys.modules))\n"
             "sys.stderr.write(repr((code, heavy)))\n")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            env=client_env(server.data_dir))
    assert result.stderr.endswith("(0, [])"), result.stderr


def test_auth_keys_verify_signatures(tmp_path):
    from rekcli.server import sigv4

    keys = tmp_path / "keys"
    keys.write_text("# operator keys\nAKIDLOCAL s3cret\n")
    running = Server(tmp_path / "data", "--workers", "1", "--auth-keys", str(keys))

    def client(access_key, secret, **config):
        return boto3.client("rekognition", endpoint_url=running.url, region_name="us-east-1",
                            aws_access_key_id=access_key, aws_secret_access_key=secret,
                            config=Config(retries={"max_attempts": 1}, **config))

    try:
        assert "CollectionIds" in client("AKIDLOCAL", "s3cret").list_collections()
        cases = [(client("AKIDLOCAL", "wrong"), "InvalidSignatureException"),
                 (client("SOMEONE", "s3cret"), "UnrecognizedClientException"),
                 (client("x", "y", signature_version=botocore.UNSIGNED),
                  "MissingAuthenticationTokenException")]
        for bad_client, code in cases:
            with pytest.raises(botocore.exceptions.ClientError) as caught:
                bad_client.list_collections()
            assert caught.value.response["Error"]["Code"] == code
        headers = {"Content-Type": "application/x-amz-json-1.1", "Host": f"127.0.0.1:{running.port}",
                   "X-Amz-Target": "RekognitionService.ListCollections"}
        sigv4.sign(headers, b"{}", "AKIDLOCAL", "s3cret", "us-east-1", "20200101T000000Z")
        del headers["Host"]  # http.client sends the same value itself
        response, body = running.raw(b"{}", headers=headers)
        assert response.status == 400 and body["__type"] == "InvalidSignatureException"
        assert body["message"].startswith("Signature expired: 20200101T000000Z")
    finally:
        assert running.stop() == 0


def test_non_loopback_bind_without_auth_warns(tmp_path):
    running = Server(tmp_path / "data", "--workers", "1", "--host", "0.0.0.0")
    running.process.send_signal(signal.SIGTERM)
    _, stderr = running.process.communicate(timeout=30)
    assert running.process.returncode == 0
    assert "warning: serving on 0.0.0.0 without signature checks" in stderr


def test_loopback_server_refuses_foreign_host_names(server):
    response, body = server.raw(b"{}", headers={"Host": "attacker.example:80"})
    assert response.status == 403 and body["__type"] == "AccessDeniedException"
    response, body = server.raw(b"{}", headers={"Host": f"localhost:{server.port}"})
    assert response.status == 200


def test_connections_beyond_the_cap_get_throttling(server):
    import socket

    from rekcli.server.http import RekognitionServer

    idle = [socket.create_connection(("127.0.0.1", server.port), timeout=30)
            for _ in range(RekognitionServer.max_connections)]
    try:
        time.sleep(0.2)  # let the server accept them all
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as extra:
            answer = b""
            while chunk := extra.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 400") and b"ThrottlingException" in answer
    finally:
        for sock in idle:
            sock.close()
    time.sleep(0.2)
    response, _ = server.raw(b"{}")
    assert response.status == 200


def test_request_log_on_stderr_when_asked(tmp_path):
    running = Server(tmp_path / "data", "--workers", "1", "--log-requests")
    running.client().list_collections()
    running.raw(b"{}", target="RekognitionService.Nope")
    running.process.send_signal(signal.SIGTERM)
    stdout, stderr = running.process.communicate(timeout=30)
    lines = stderr.splitlines()
    assert any(" ListCollections 200 OK " in line for line in lines), stderr
    assert any(" 400 UnknownOperationException " in line for line in lines), stderr
    assert "Signature=" not in stderr and stdout == ""  # stdout held only the ready line


def test_serve_help(tmp_path):
    for args in (["serve", "--help"], ["help", "serve"]):
        result = rekcli(client_env(tmp_path), *args)
        assert result.returncode == 0 and "--auth-keys" in result.stdout
    bad = rekcli(client_env(tmp_path), "serve", "--port", "x")
    assert bad.returncode == 252 and "invalid int value" in bad.stderr


def test_sigterm_during_warm_up_leaves_no_workers_behind(tmp_path):
    process = subprocess.Popen(REKCLI + ["serve", "--port", "0", "--workers", "1"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               env=client_env(tmp_path))
    # Wait until the forkserver exists (the warm-up has begun), then stop the server.
    for _ in range(200):
        if _descendants(process.pid):
            break
        time.sleep(0.01)
    below = list(_descendants(process.pid))
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0
    time.sleep(0.5)
    assert [pid for pid in below if Path(f"/proc/{pid}").exists()
            and "zombie" not in Path(f"/proc/{pid}/status").read_text()] == []
