"""People's names, phone numbers, bank details and registration codes: plausible, valid, never repeated."""
import random
from datetime import date, timedelta

from ..validators import CREDIT_CODE_CHARSET, make_credit_code, make_id_number
from .data import CITY_AREA_CODES, CITY_PHONE_CODES

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
            "姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤")
GIVEN_CHARACTERS = ("伟芳敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚华建文辉力斌宇浩凯健俊帆晨欣怡婷雪琳晓峰鹏飞亮志红梅玲燕"
                    "波宁海军松涛瑞鑫嘉雨轩睿昊然子博文思佳铭晖翔立新国庆春秋")
BANKS = (("中国工商银行", "102"), ("中国农业银行", "103"), ("中国银行", "104"), ("中国建设银行", "105"),
         ("交通银行", "301"), ("招商银行", "308"), ("江苏银行", "313"))

# Registration-authority prefix of a 统一社会信用代码 (GB 32100-2015): 9 1 = company, 1 2 = public institution.
COMPANY, PUBLIC_INSTITUTION = "91", "12"


class Identities:
    def __init__(self, rng: random.Random, taken_credit_codes=()):
        self.rng = rng
        self._credit_codes = set(taken_credit_codes)

    def person_name(self) -> str:
        given = "".join(self.rng.choice(GIVEN_CHARACTERS) for _ in range(self.rng.choice((1, 2, 2))))
        return self.rng.choice(SURNAMES) + given

    def mobile(self) -> str:
        return f"1{self.rng.choice('3589')}{self.rng.randrange(10 ** 9):09d}"

    def landline(self, city: str) -> str:
        return f"{CITY_PHONE_CODES[city]}-{self.rng.randrange(5, 9)}{self.rng.randrange(10 ** 7):07d}"

    def credit_code(self, prefix: str, city: str) -> str:
        while True:
            code = make_credit_code(prefix + CITY_AREA_CODES[city] + self._organisation_code())
            if code not in self._credit_codes:
                self._credit_codes.add(code)
                return code

    def _organisation_code(self) -> str:
        # Codes issued since 2015 start "MA"; older ones keep the unit's 9-character organisation code.
        if self.rng.random() < 0.5:
            return "MA" + "".join(self.rng.choice(CREDIT_CODE_CHARSET) for _ in range(7))
        return f"{self.rng.randrange(10 ** 8):08d}" + self.rng.choice(CREDIT_CODE_CHARSET)

    def id_number(self, city: str) -> str:
        district = CITY_AREA_CODES[city][:4] + f"{self.rng.randint(1, 12):02d}"
        born = date(1962, 1, 1) + timedelta(days=self.rng.randrange(30 * 365))
        return make_id_number(f"{district}{born:%Y%m%d}{self.rng.randrange(1000):03d}")

    def bank_account(self, city: str, district: str) -> dict:
        bank, code = self.rng.choice(BANKS)
        return {
            "bank_name": f"{bank}{city}{district.rstrip('区县市')}支行",
            "bank_branch_code": f"{code}{self.rng.randrange(10 ** 9):09d}",
            "bank_account_number": f"{self.rng.randrange(10 ** 18, 10 ** 19)}",
        }

    def kexiao_number(self, city: str, year: int) -> str:
        """科技型中小企业入库编号: year, area code, serial."""
        return f"{year}{CITY_AREA_CODES[city]}{self.rng.randrange(10 ** 8):08d}"
