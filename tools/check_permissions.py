#!/usr/bin/env python3
"""Checks template.yaml's function roles against the AWS calls the functions
made, as moto_server recorded them (MOTO_ENABLE_RECORDING).

usage: check_permissions.py TEMPLATE RECORDING [--require ID,ID...]

Each function signs with its logical id as access key under the emulator
(emulator/secrets_api.h), so every recorded request names its caller. A
call its role does not allow is a failure: in AWS it would be
AccessDenied. So is a role statement on every resource ("*") or with a
wildcard action. Grants no call used are listed, not failed: a test run
does not take every path (a retry that gives up, a replay).

Resources are named as the emulator names them: Ref of a table or bucket is
its logical id, of a secret its ARN.
"""
import base64
import fnmatch
import json
import re
import sys
from urllib.parse import urlparse

from cfnlint.decode import decode

ACCOUNT = "000000000000"


class Template:
    def __init__(self, path):
        doc, problems = decode(path)
        if problems:
            raise SystemExit(f"{path}: {problems[0]}")
        self.resources = doc["Resources"]
        self.region = "eu-west-1"

    def name(self, logical_id):
        props = self.resources[logical_id].get("Properties", {})
        kind = self.resources[logical_id]["Type"]
        key = {"AWS::SQS::Queue": "QueueName", "AWS::Logs::LogGroup": "LogGroupName",
               "AWS::DynamoDB::Table": "TableName", "AWS::S3::Bucket": "BucketName",
               "AWS::SecretsManager::Secret": "Name"}.get(kind)
        value = props.get(key) if key else None
        return self.resolve(value) if value is not None else logical_id

    def arn(self, logical_id):
        kind = self.resources[logical_id]["Type"]
        name = self.name(logical_id)
        arns = {
            "AWS::DynamoDB::Table": f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{name}",
            "AWS::S3::Bucket": f"arn:aws:s3:::{name}",
            "AWS::SQS::Queue": f"arn:aws:sqs:{self.region}:{ACCOUNT}:{name}",
            "AWS::Logs::LogGroup": f"arn:aws:logs:{self.region}:{ACCOUNT}:log-group:{name}:*",
            "AWS::SecretsManager::Secret":
                f"arn:aws:secretsmanager:{self.region}:{ACCOUNT}:secret:{name}",
        }
        if kind not in arns:
            raise SystemExit(f"the ARN of {logical_id} ({kind}) is not known here")
        return arns[kind]

    def ref(self, name):
        if name == "AWS::Partition":
            return "aws"
        if name == "AWS::Region":
            return self.region
        if name == "AWS::AccountId":
            return ACCOUNT
        if self.resources.get(name, {}).get("Type") == "AWS::SecretsManager::Secret":
            return self.arn(name)  # Ref of a secret is its ARN
        if name in self.resources:
            return self.name(name)
        raise SystemExit(f"!Ref {name}: not something a role statement can name here")

    def resolve(self, node):
        """A statement's Resource (intrinsics evaluated), as a string."""
        if isinstance(node, str):
            return node
        if "Ref" in node:
            return self.ref(node["Ref"])
        if "Fn::GetAtt" in node:
            target, attribute = node["Fn::GetAtt"]
            return self.arn(target) if attribute == "Arn" else self.name(target)
        if "Fn::Sub" in node:
            def one(match):
                text = match.group(1)
                if text == "AWS::StackName":
                    return "local"
                if "." in text:
                    target, attribute = text.split(".", 1)
                    return self.arn(target) if attribute == "Arn" else self.name(target)
                return self.ref(text)
            return re.sub(r"\$\{([^}]+)\}", one, node["Fn::Sub"])
        raise SystemExit(f"cannot evaluate {node}")

    def roles(self):
        """Function logical id -> [(action, resource pattern)] of its role."""
        out = {}
        for fid, res in self.resources.items():
            if res["Type"] != "AWS::Serverless::Function":
                continue
            role = res.get("Properties", {}).get("Role")
            if not isinstance(role, dict) or "Fn::GetAtt" not in role:
                raise SystemExit(f"{fid}: Role is not !GetAtt of a role in the template")
            grants = []
            for policy in self.resources[role["Fn::GetAtt"][0]]["Properties"]["Policies"]:
                for st in policy["PolicyDocument"]["Statement"]:
                    if st["Effect"] != "Allow":
                        continue
                    actions = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                    targets = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                    for action in actions:
                        for target in targets:
                            grants.append((action, self.resolve(target)))
            out[fid] = grants
        return out


def calls(recording, region):
    """(caller, action, resource ARN) of each recorded request."""
    with open(recording) as f:
        for line in f:
            entry = json.loads(line)
            headers = {k.lower(): v for k, v in entry["headers"].items()}
            credential = re.search(r"Credential=([^/]+)/", headers.get("authorization", ""))
            if not credential:
                continue
            caller = credential.group(1)
            target = headers.get("x-amz-target", "")
            text = entry.get("body") or ""
            if entry.get("body_encoded"):
                text = base64.b64decode(text).decode()
            body = json.loads(text) if target and text else {}
            if target.startswith("DynamoDB_"):
                action = "dynamodb:" + target.split(".", 1)[1]
                tables = list(body.get("RequestItems", {})) or [body.get("TableName", "")]
                for table in tables:
                    yield caller, action, f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{table}"
            elif target.startswith("secretsmanager."):
                yield (caller, "secretsmanager:" + target.split(".", 1)[1],
                       body.get("SecretId", ""))
            elif target.startswith("AmazonSQS."):
                yield caller, "sqs:" + target.split(".", 1)[1], body.get("QueueUrl", "")
            else:
                path = urlparse(entry["url"]).path.lstrip("/")
                verb = {"PUT": "PutObject", "GET": "GetObject", "HEAD": "GetObject",
                        "DELETE": "DeleteObject"}.get(entry["method"], entry["method"])
                if "/" not in path:
                    verb = {"PUT": "CreateBucket", "GET": "ListBucket"}.get(entry["method"], verb)
                yield caller, "s3:" + verb, f"arn:aws:s3:::{path}"


def allowed(grants, action, resource):
    return any(fnmatch.fnmatchcase(action, a) and fnmatch.fnmatchcase(resource, r)
               for a, r in grants)


def main(argv):
    if len(argv) < 3:
        raise SystemExit(__doc__)
    template = Template(argv[1])
    required = argv[argv.index("--require") + 1].split(",") if "--require" in argv else []
    roles = template.roles()
    failures = []
    for fid, grants in roles.items():
        for action, target in grants:
            if target == "*" or "*" in action:
                failures.append(f"BROAD: {fid} may {action} on {target}")
    used = {fid: {} for fid in roles}
    for caller, action, resource in calls(argv[2], template.region):
        if caller not in roles:
            continue  # the test's own set-up
        key = (action, resource.split("/", 1)[0] + "/..." if action.startswith("s3:") else resource)
        used[caller][key] = used[caller].get(key, 0) + 1
        if not allowed(roles[caller], action, resource):
            failures.append(f"DENIED: {caller} called {action} on {resource}")
    for fid, grants in roles.items():
        counts = ", ".join(f"{a} {n}" for (a, _), n in sorted(used[fid].items()))
        print(f"{fid}: {counts or 'no calls recorded'}")
        unused = sorted({a for a, r in grants
                         if not a.startswith(("logs:", "sqs:", "secretsmanager:"))
                         and not any(fnmatch.fnmatchcase(u, a) for u, _ in used[fid])})
        if unused:
            print(f"{fid}: granted, not called in this run: {', '.join(unused)}")
    for fid in required:
        if not used.get(fid):
            failures.append(f"NO CALLS: {fid} made no recorded AWS call")
    for failure in failures:
        print(failure)
    print(f"permissions: {sum(sum(u.values()) for u in used.values())} calls checked, "
          f"{len(failures)} problems")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
