"""boto3 against the local stack: Batch Transform on a TGI model with DataProcessing
(driven by tgi-transform-boto3.test.ts).

The output lines are checked against "Associate Prediction Results with Input Records"
(https://docs.aws.amazon.com/sagemaker/latest/dg/batch-transform-data-processing.html): with
JoinSource Input the container's answer is added to the input object as SageMakerOutput, and
the OutputFilter selects from the joined record; unsupported JSONPath is refused.
Prints one `ok - ...` / `not ok - ...` line per check.
"""
import json
import os
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = "us-east-1"
BUCKET = os.environ["BUCKET"]
MODEL = os.environ["TGI_MODEL"]
sm = boto3.client("sagemaker", endpoint_url=os.environ["SAGEMAKER_ENDPOINT_URL"], region_name=REGION,
                  config=Config(retries={"max_attempts": 1, "mode": "standard"}))
s3 = boto3.client("s3", endpoint_url=os.environ["S3_ENDPOINT_URL"], region_name=REGION,
                  config=Config(s3={"addressing_style": "path"}))
failures = 0


def check(ok, what):
    global failures
    print(("ok - " if ok else "not ok - ") + what, flush=True)
    if not ok:
        failures += 1


WORDS = ["walnut", "pepper", "violet", "saffron"]
IDS = ["b-2", 10, "a-1", 3]
records = [
    {"id": IDS[i], "inputs": f"The {w} market opened. Every {w} stall was busy. The {w} traders left late.",
     "parameters": {"max_new_tokens": 12}, "source": f"feed-{i}"}
    for i, w in enumerate(WORDS)
]
s3.put_object(Bucket=BUCKET, Key="tgi-job/in/records.jsonl", Body="".join(json.dumps(r) + "\n" for r in records).encode())


def job(name, processing, output_prefix):
    sm.create_transform_job(
        TransformJobName=name,
        ModelName=MODEL,
        BatchStrategy="SingleRecord",
        MaxConcurrentTransforms=2,
        TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/tgi-job/in/"}},
                        "ContentType": "application/json", "SplitType": "Line"},
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/{output_prefix}/", "Accept": "application/json", "AssembleWith": "Line"},
        TransformResources={"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1},
        DataProcessing=processing,
    )
    sm.get_waiter("transform_job_completed_or_stopped").wait(TransformJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    described = sm.describe_transform_job(TransformJobName=name)
    return described


described = job("tgi-joined", {"InputFilter": "$['inputs','parameters']", "JoinSource": "Input", "OutputFilter": "$['id','SageMakerOutput']"}, "out-joined")
check(described["TransformJobStatus"] == "Completed", f"the joined job completes ({described.get('FailureReason', '')})")
check(described["DataProcessing"] == {"InputFilter": "$['inputs','parameters']", "JoinSource": "Input", "OutputFilter": "$['id','SageMakerOutput']"},
      "DescribeTransformJob echoes DataProcessing")
body = s3.get_object(Bucket=BUCKET, Key="out-joined/records.jsonl.out")["Body"].read().decode()
lines = [json.loads(line) for line in body.splitlines() if line.strip()]
check([list(line.keys()) for line in lines] == [["id", "SageMakerOutput"]] * 4, "each line is the OutputFilter's {id, SageMakerOutput}")
check([line["id"] for line in lines] == IDS, "ids in input order, from the input (TGI does not echo them)")
check(all(isinstance(line["SageMakerOutput"], list) and len(line["SageMakerOutput"]) == 1 for line in lines),
      "SageMakerOutput is TGI's answer, a list of one generation")
texts = [line["SageMakerOutput"][0]["generated_text"] for line in lines]
check(all(WORDS[i] in t and not any(w in t for j, w in enumerate(WORDS) if j != i) for i, t in enumerate(texts)),
      "each generation is its own record's")
check(all(0 < len(t.split()) <= 12 for t in texts), "max_new_tokens reached the container through the InputFilter")

described = job("tgi-whole", {"InputFilter": "$['inputs','parameters']", "JoinSource": "Input"}, "out-whole")
body = s3.get_object(Bucket=BUCKET, Key="out-whole/records.jsonl.out")["Body"].read().decode()
whole = [json.loads(line) for line in body.splitlines() if line.strip()]
check([{k: v for k, v in line.items() if k != "SageMakerOutput"} for line in whole] == records,
      "JoinSource Input without OutputFilter: the whole input record, id and source included")
check([line["SageMakerOutput"][0]["generated_text"] for line in whole] == texts, "the same generations under SageMakerOutput")

described = job("tgi-plain", {}, "out-plain")
check(described["TransformJobStatus"] == "Completed", "without DataProcessing the line is the body as written (TGI ignores members it does not know)")
body = s3.get_object(Bucket=BUCKET, Key="out-plain/records.jsonl.out")["Body"].read().decode()
plain = [json.loads(line) for line in body.splitlines() if line.strip()]
check([p[0]["generated_text"] for p in plain] == texts, "and the output is TGI's answer as written, in input order, with no id")


def refused(processing):
    try:
        sm.create_transform_job(
            TransformJobName="tgi-refused", ModelName=MODEL,
            TransformInput={"DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/tgi-job/in/"}},
                            "ContentType": "application/json", "SplitType": "Line"},
            TransformOutput={"S3OutputPath": f"s3://{BUCKET}/out-refused/"},
            TransformResources={"InstanceType": "ml.g5.2xlarge", "InstanceCount": 1},
            DataProcessing=processing)
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["Error"]["Message"]
    return None, None


code, message = refused({"InputFilter": "$..inputs"})
check(code == "ValidationException" and "InputFilter" in message and "$..inputs" in message and "'..'" in message,
      f"deep scan refused at CreateTransformJob, naming the filter: {message}")
code, message = refused({"OutputFilter": "$[?(@.id)]"})
check(code == "ValidationException" and "OutputFilter" in message and "$[?(@.id)]" in message,
      f"a filter expression refused, naming the filter: {message}")
code, message = refused({"InputFilter": "$['inputs','parameters.max_new_tokens']"})
check(code == "ValidationException" and "nesting" in message, f"nesting inside brackets refused: {message}")
code, message = refused({"JoinSource": "Output"})
check(code == "ValidationException" and "joinSource" in message, f"JoinSource outside its enum refused: {message}")
code, message = refused({"OutputFilter": "$['" + "x" * 70 + "']"})
check(code == "ValidationException" and "63" in message, f"a filter over 63 characters refused: {message}")
try:
    sm.describe_transform_job(TransformJobName="tgi-refused")
    check(False, "no job was created by a refusal")
except ClientError as err:
    check(err.response["Error"]["Code"] in ("ResourceNotFound", "ValidationException"), "no job was created by a refusal")

sys.exit(1 if failures else 0)
