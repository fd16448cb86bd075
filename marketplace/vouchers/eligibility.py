"""Who may apply (SPEC 1.4): each refusal names the rule and the form field it belongs to."""
from datetime import date

from .. import policy
from ..models import VoucherApplication
from ..policy import Problem

JIANGSU = "江苏省"
# policy.enterprise_problems() speaks of city / revenue / identity; the application's fields are named so.
_FIELD = {"city": "registered_city", "revenue": "revenue_fen", "identity": "identity"}


def application_problems(application: VoucherApplication, today: date) -> list[Problem]:
    """Why this application cannot be submitted under the policy (empty: it can)."""
    problems = []
    in_jiangsu = application.registered_province == JIANGSU
    if not in_jiangsu:
        problems.append(Problem("registered_province",
                                "省科技创新券仅支持在江苏省内注册的独立法人企业，注册地不在江苏省的企业不能申领"))
    for problem in policy.enterprise_problems(application.registered_city, application.revenue_fen,
                                              application.identity):
        if in_jiangsu or problem.field != "city":
            problems.append(Problem(_FIELD[problem.field], problem.message))
    problems += identity_proof_problems(application, today)
    if not application.business_licence_file_id:  # the reviewer confirms the registered city from it
        problems.append(Problem("business_licence", "请上传营业执照"))
    if not application.financial_statement_file_id:
        problems.append(Problem("financial_statement", "请上传上年度财务报表"))
    return problems


def identity_proof_problems(application: VoucherApplication, today: date) -> list[Problem]:
    """The proofs each identity needs (SPEC 1.4)."""
    identity = application.identity
    if identity == "kexiao" and not application.kexiao_number.strip():
        return [Problem("kexiao_number", "科技型中小企业须填写本年度科技型中小企业入库编号")]
    if identity == "gaoqi":
        problems = []
        if not application.gaoqi_certificate_number.strip():
            problems.append(Problem("gaoqi_certificate_number", "高新技术企业须填写高新技术企业证书编号"))
        if application.gaoqi_valid_until is None:
            problems.append(Problem("gaoqi_valid_until", "请填写高新技术企业证书有效期"))
        elif application.gaoqi_valid_until < today:
            problems.append(Problem("gaoqi_valid_until",
                                    f"高新技术企业证书已于{application.gaoqi_valid_until.isoformat()}"
                                    "过期，须在有效期内才能以高新技术企业身份申领"))
        return problems
    if identity == "incubated" and not application.identity_proof_file_id:
        return [Problem("identity_proof", "入孵化器企业须上传孵化证明或入孵协议")]
    if identity == "talent":
        problems = []
        if not application.identity_proof_file_id:
            problems.append(Problem("identity_proof",
                                    "人才企业须上传人才项目获得者证明（县级以上人才计划或省科技副总）"))
        if not application.relation_proof_file_id:
            problems.append(Problem("relation_proof", "人才企业须上传人才与企业关系证明（创办、合作或任职）"))
        return problems
    return []
