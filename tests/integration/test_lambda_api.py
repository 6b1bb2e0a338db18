"""The Lambda control plane through boto3 against a real daemon (src/services/lambda).

The packages here hold a fake ELF "library" (the control plane only checks that Handler names an ELF file
in the zip), so Invoke is checked for its HTTP-level behaviour here (DryRun, errors, throttles, and a library
that cannot load); test_lambda_invoke.py runs real functions.
"""
import base64
import hashlib
import io
import json
import os
import tempfile
import unittest
import zipfile

from botocore.exceptions import ClientError

from harness import Daemon

ACCOUNT = "000000000000"
ARN = f"arn:aws:lambda:us-east-1:{ACCOUNT}:function:"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/lambda-role"


def fake_zip(tag: str = "v1", name: str = "libecho.so") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, b"\x7fELF" + b"fake-" + tag.encode())
    return buf.getvalue()


class LambdaApiTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.daemon = Daemon().start()
        cls.lam = cls.daemon.client("lambda")

    @classmethod
    def tearDownClass(cls):
        cls.daemon.__exit__(None, None, None)

    def create(self, name, **extra):
        args = dict(FunctionName=name, Runtime="provided.al2023", Role=ROLE, Handler="libecho.so",
                    Code={"ZipFile": fake_zip()})
        args.update(extra)
        return self.lam.create_function(**args)

    def assertError(self, code, fn, *args, **kwargs):
        with self.assertRaises(ClientError) as cm:
            fn(*args, **kwargs)
        self.assertEqual(cm.exception.response["Error"]["Code"], code, cm.exception.response)
        return cm.exception.response

    def test_create_get_list_delete(self):
        z = fake_zip()
        out = self.create("crud", Code={"ZipFile": z}, Environment={"Variables": {"KEY": "v"}},
                          Tags={"team": "a"})
        self.assertEqual(out["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(out["FunctionArn"], ARN + "crud")
        self.assertEqual(out["CodeSha256"], base64.b64encode(hashlib.sha256(z).digest()).decode())
        self.assertEqual(out["CodeSize"], len(z))
        self.assertEqual(out["State"], "Active")
        self.assertRegex(out["LastModified"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")

        got = self.lam.get_function(FunctionName=ARN + "crud")
        self.assertEqual(got["Configuration"]["Environment"]["Variables"], {"KEY": "v"})
        self.assertEqual(got["Code"]["RepositoryType"], "S3")
        self.assertEqual(got["Tags"], {"team": "a"})
        cfg = self.lam.get_function_configuration(FunctionName=f"{ACCOUNT}:function:crud")
        self.assertEqual(cfg["Handler"], "libecho.so")
        self.lam.get_waiter("function_active_v2").wait(FunctionName="crud",
                                                       WaiterConfig={"Delay": 1, "MaxAttempts": 3})

        resp = self.assertError("ResourceConflictException", self.create, "crud")
        self.assertEqual(resp["Error"]["Message"], "Function already exist: crud")
        resp = self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName="nope")
        self.assertEqual(resp["Error"]["Message"], f"Function not found: {ARN}nope")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 404)

        deleted = self.lam.delete_function(FunctionName="crud")
        self.assertEqual(deleted["ResponseMetadata"]["HTTPStatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName="crud")

    def test_bad_packages_and_parameters(self):
        self.assertError("InvalidParameterValueException", self.create, "badzip", Code={"ZipFile": b"nope"})
        self.assertError("InvalidParameterValueException", self.create, "nolib",
                         Code={"ZipFile": fake_zip(name="other.so")})
        self.assertError("InvalidParameterValueException", self.create, "py", Runtime="python3.12")
        self.create("limits")
        self.assertError("ValidationException", self.lam.update_function_configuration,
                         FunctionName="limits", MemorySize=20000)
        self.assertError("ValidationException", self.lam.update_function_configuration,
                         FunctionName="limits", Timeout=901)
        self.assertError("ValidationException", self.lam.put_function_event_invoke_config,
                         FunctionName="limits", MaximumRetryAttempts=3)

    def test_list_functions_paginates(self):
        names = [f"page-{i}" for i in range(5)]
        for n in names:
            self.create(n)
        seen = []
        for page in self.lam.get_paginator("list_functions").paginate(PaginationConfig={"PageSize": 2}):
            seen += [f["FunctionName"] for f in page["Functions"]]
        for n in names:
            self.assertIn(n, seen)
        self.assertEqual(len(seen), len(set(seen)))

    def test_update_publish_alias(self):
        first = self.create("ver")
        z2 = fake_zip("v2")
        upd = self.lam.update_function_code(FunctionName="ver", ZipFile=z2)
        self.assertEqual(upd["CodeSha256"], base64.b64encode(hashlib.sha256(z2).digest()).decode())
        self.assertNotEqual(upd["RevisionId"], first["RevisionId"])
        self.assertError("PreconditionFailedException", self.lam.update_function_configuration,
                         FunctionName="ver", Timeout=5, RevisionId=first["RevisionId"])
        conf = self.lam.update_function_configuration(FunctionName="ver", Timeout=10, MemorySize=256)
        self.assertEqual((conf["Timeout"], conf["MemorySize"]), (10, 256))

        v1 = self.lam.publish_version(FunctionName="ver")
        self.assertEqual(v1["Version"], "1")
        self.assertEqual(v1["ResponseMetadata"]["HTTPStatusCode"], 201)
        self.assertEqual(self.lam.publish_version(FunctionName="ver")["Version"], "1")
        self.lam.update_function_configuration(FunctionName="ver", Timeout=20)
        self.assertEqual(self.lam.publish_version(FunctionName="ver")["Version"], "2")
        versions = [v["Version"] for v in self.lam.list_versions_by_function(FunctionName="ver")["Versions"]]
        self.assertEqual(versions, ["$LATEST", "1", "2"])

        alias = self.lam.create_alias(FunctionName="ver", Name="live", FunctionVersion="1",
                                      RoutingConfig={"AdditionalVersionWeights": {"2": 0.1}})
        self.assertEqual(alias["AliasArn"], ARN + "ver:live")
        self.assertEqual(self.lam.get_alias(FunctionName="ver", Name="live")["RoutingConfig"],
                         {"AdditionalVersionWeights": {"2": 0.1}})
        self.assertEqual(self.lam.get_function_configuration(FunctionName="ver:live")["Version"], "1")
        # The routing config is kept by an update that does not mention it, so version 2 must leave it first
        # (AWS refuses a primary version that is also a weighted one).
        self.assertError("InvalidParameterValueException", self.lam.update_alias, FunctionName="ver",
                         Name="live", FunctionVersion="2")
        self.lam.update_alias(FunctionName="ver", Name="live", FunctionVersion="2",
                              RoutingConfig={"AdditionalVersionWeights": {}})
        self.assertEqual([a["Name"] for a in self.lam.list_aliases(FunctionName="ver")["Aliases"]], ["live"])
        self.assertError("ResourceConflictException", self.lam.delete_function, FunctionName="ver",
                         Qualifier="2")
        self.lam.delete_alias(FunctionName="ver", Name="live")
        self.lam.delete_function(FunctionName="ver", Qualifier="2")
        self.assertError("ResourceNotFoundException", self.lam.get_function, FunctionName="ver:2")

    def test_concurrency_configs_and_tags(self):
        self.create("conc")
        self.lam.publish_version(FunctionName="conc")
        self.assertEqual(self.lam.put_function_concurrency(FunctionName="conc", ReservedConcurrentExecutions=3)
                         ["ReservedConcurrentExecutions"], 3)
        self.assertEqual(self.lam.get_function_concurrency(FunctionName="conc")["ReservedConcurrentExecutions"], 3)
        self.lam.delete_function_concurrency(FunctionName="conc")
        self.assertNotIn("ReservedConcurrentExecutions", self.lam.get_function_concurrency(FunctionName="conc"))

        pc = self.lam.put_provisioned_concurrency_config(FunctionName="conc", Qualifier="1",
                                                          ProvisionedConcurrentExecutions=2)
        self.assertEqual(pc["Status"], "READY")
        self.assertEqual(self.lam.get_provisioned_concurrency_config(FunctionName="conc", Qualifier="1")
                         ["RequestedProvisionedConcurrentExecutions"], 2)
        self.lam.delete_provisioned_concurrency_config(FunctionName="conc", Qualifier="1")
        self.assertError("ProvisionedConcurrencyConfigNotFoundException",
                         self.lam.get_provisioned_concurrency_config, FunctionName="conc", Qualifier="1")

        eic = self.lam.put_function_event_invoke_config(
            FunctionName="conc", MaximumRetryAttempts=0, MaximumEventAgeInSeconds=60,
            DestinationConfig={"OnFailure": {"Destination": ARN + "dlq"}})
        self.assertEqual(eic["FunctionArn"], ARN + "conc:$LATEST")
        upd = self.lam.update_function_event_invoke_config(FunctionName="conc", MaximumRetryAttempts=2)
        self.assertEqual((upd["MaximumRetryAttempts"], upd["MaximumEventAgeInSeconds"]), (2, 60))
        self.lam.delete_function_event_invoke_config(FunctionName="conc")
        self.assertError("ResourceNotFoundException", self.lam.get_function_event_invoke_config,
                         FunctionName="conc")

        self.lam.tag_resource(Resource=ARN + "conc", Tags={"a": "1", "b": "2"})
        self.lam.untag_resource(Resource=ARN + "conc", TagKeys=["a"])
        self.assertEqual(self.lam.list_tags(Resource=ARN + "conc")["Tags"], {"b": "2"})
        settings = self.lam.get_account_settings()
        self.assertEqual(settings["AccountLimit"]["ConcurrentExecutions"], 1000)
        self.assertGreaterEqual(settings["AccountUsage"]["FunctionCount"], 1)

    def test_invoke_http_semantics(self):
        self.create("inv")
        dry = self.lam.invoke(FunctionName="inv", InvocationType="DryRun")
        self.assertEqual(dry["StatusCode"], 204)
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName="missing")
        self.assertError("ResourceNotFoundException", self.lam.invoke, FunctionName="inv", Qualifier="9")
        self.assertError("InvalidRequestContentException", self.lam.invoke, FunctionName="inv",
                         Payload=b"{not json")
        self.lam.put_function_concurrency(FunctionName="inv", ReservedConcurrentExecutions=0)
        resp = self.assertError("TooManyRequestsException", self.lam.invoke, FunctionName="inv", Payload=b"{}")
        self.assertEqual(resp["ResponseMetadata"]["HTTPStatusCode"], 429)
        self.assertEqual(resp.get("Reason"), "ReservedFunctionConcurrentInvocationLimitExceeded")
        self.lam.delete_function_concurrency(FunctionName="inv")
        # The fake library cannot load: a function error for this invocation, not a platform failure.
        out = self.lam.invoke(FunctionName="inv", Payload=b"{}", LogType="Tail")
        self.assertEqual(out["StatusCode"], 200)
        self.assertEqual(out["ExecutedVersion"], "$LATEST")
        self.assertEqual(out.get("FunctionError"), "Unhandled")
        self.assertIn(json.loads(out["Payload"].read())["errorType"],
                      ("Runtime.InvalidEntrypoint", "Runtime.HandlerNotFound"))


class LambdaPersistenceTest(unittest.TestCase):
    def test_functions_survive_a_restart(self):
        with tempfile.TemporaryDirectory(prefix="stratus-lambda-it-") as data:
            with Daemon(data_dir=data) as d:
                lam = d.client("lambda")
                lam.create_function(FunctionName="kept", Runtime="provided.al2023", Role=ROLE,
                                    Handler="libecho.so", Code={"ZipFile": fake_zip()})
                lam.publish_version(FunctionName="kept")
                lam.create_alias(FunctionName="kept", Name="live", FunctionVersion="1")
                sha = lam.get_function(FunctionName="kept")["Configuration"]["CodeSha256"]
            with Daemon(data_dir=data) as d:
                lam = d.client("lambda")
                got = lam.get_function(FunctionName="kept:live")
                self.assertEqual(got["Configuration"]["CodeSha256"], sha)
                self.assertEqual(got["Configuration"]["Version"], "1")
                self.assertTrue(os.path.isdir(os.path.join(data, "lambda", ACCOUNT, "us-east-1", "kept")))


if __name__ == "__main__":
    unittest.main()
