"""Names of generated providers: real Jiangsu universities and institutes first, then realistic invented units."""
import random
from typing import NamedTuple


class Institution(NamedTuple):
    name: str
    unit_type: str
    city: str
    district: str
    address_detail: str
    groups: tuple[str, ...]


_ALL_LABS = ("microscopy", "surface", "structure", "chemistry", "physical", "mechanics")
_MEDICAL = ("bio", "chemistry", "structure")
_ENGINEERING = ("mechanics", "electronics", "semiconductor", "physical")

KNOWN_INSTITUTIONS = (
    Institution("南京大学", "university", "南京", "鼓楼区", "汉口路22号", _ALL_LABS + ("bio",)),
    Institution("东南大学", "university", "南京", "玄武区", "四牌楼2号", _ENGINEERING + ("microscopy",)),
    Institution("南京航空航天大学", "university", "南京", "秦淮区", "御道街29号", _ENGINEERING),
    Institution("南京理工大学", "university", "南京", "玄武区", "孝陵卫200号", _ENGINEERING + ("chemistry",)),
    Institution("河海大学", "university", "南京", "鼓楼区", "西康路1号", ("mechanics", "chemistry", "physical")),
    Institution("南京农业大学", "university", "南京", "玄武区", "卫岗1号", ("bio", "chemistry")),
    Institution("中国药科大学", "university", "南京", "鼓楼区", "童家巷24号", _MEDICAL),
    Institution("南京工业大学", "university", "南京", "浦口区", "浦珠南路30号", ("chemistry", "physical", "structure")),
    Institution("南京邮电大学", "university", "南京", "栖霞区", "文苑路9号",
                ("electronics", "semiconductor", "software")),
    Institution("南京师范大学", "university", "南京", "栖霞区", "文苑路1号", ("chemistry", "structure", "bio")),
    Institution("南京医科大学", "university", "南京", "江宁区", "龙眠大道101号", _MEDICAL),
    Institution("南京林业大学", "university", "南京", "玄武区", "龙蟠路159号", ("physical", "chemistry", "structure")),
    Institution("南京信息工程大学", "university", "南京", "浦口区", "宁六路219号", ("chemistry", "electronics")),
    Institution("南京中医药大学", "university", "南京", "栖霞区", "仙林大道138号", _MEDICAL),
    Institution("南京工程学院", "university", "南京", "江宁区", "弘景大道1号", ("mechanics", "electronics")),
    Institution("江南大学", "university", "无锡", "滨湖区", "蠡湖大道1800号", ("bio", "chemistry", "physical")),
    Institution("苏州大学", "university", "苏州", "姑苏区", "十梓街1号", _ALL_LABS + ("bio",)),
    Institution("苏州科技大学", "university", "苏州", "虎丘区", "科锐路1号", ("chemistry", "mechanics")),
    Institution("常州大学", "university", "常州", "武进区", "滆湖中路21号", ("chemistry", "physical", "structure")),
    Institution("江苏理工学院", "university", "常州", "钟楼区", "中吴大道1801号", ("mechanics", "electronics")),
    Institution("常州工学院", "university", "常州", "新北区", "辽河路666号", ("mechanics", "electronics")),
    Institution("江苏大学", "university", "镇江", "京口区", "学府路301号", _ENGINEERING + ("bio",)),
    Institution("江苏科技大学", "university", "镇江", "京口区", "梦溪路2号", ("mechanics", "microscopy", "physical")),
    Institution("扬州大学", "university", "扬州", "邗江区", "大学南路88号", ("bio", "chemistry", "structure")),
    Institution("南通大学", "university", "南通", "崇川区", "啬园路9号", ("bio", "physical", "chemistry")),
    Institution("江苏师范大学", "university", "徐州", "铜山区", "上海路101号", ("chemistry", "structure", "physical")),
    Institution("淮阴工学院", "university", "淮安", "清江浦区", "枚乘东路1号", ("mechanics", "chemistry")),
    Institution("淮阴师范学院", "university", "淮安", "淮阴区", "长江西路111号", ("chemistry", "bio")),
    Institution("盐城工学院", "university", "盐城", "亭湖区", "希望大道中路1号", ("mechanics", "physical")),
    Institution("盐城师范学院", "university", "盐城", "亭湖区", "开放大道50号", ("bio", "chemistry")),
    Institution("江苏海洋大学", "university", "连云港", "海州区", "苍梧路59号", ("bio", "chemistry", "mechanics")),
    Institution("泰州学院", "university", "泰州", "海陵区", "东风南路93号", ("chemistry", "bio")),
    Institution("宿迁学院", "university", "宿迁", "宿城区", "黄河南路399号", ("mechanics", "software")),
    Institution("中国科学院苏州纳米技术与纳米仿生研究所", "platform_member", "苏州", "苏州工业园区", "若水路398号",
                ("microscopy", "surface", "semiconductor", "structure")),
    Institution("中国科学院苏州生物医学工程技术研究所", "platform_member", "苏州", "虎丘区", "科灵路88号",
                ("bio", "electronics")),
    Institution("中国科学院南京土壤研究所", "institute", "南京", "玄武区", "北京东路71号", ("chemistry", "structure")),
    Institution("中国科学院南京地理与湖泊研究所", "institute", "南京", "玄武区", "北京东路73号", ("chemistry", "bio")),
    Institution("江苏省农业科学院", "institute", "南京", "玄武区", "钟灵街50号", ("bio", "chemistry")),
)

BRAND_FIRST = "华中恒正诚天永新汇博精瑞海众睿启德鼎宏通信安达科创源泽远联凯"
BRAND_SECOND = "测信达安科通源泰诺析谱衡标检锐捷盛润远邦"

# (template, instrument groups): the name promises what the lab offers.
THIRD_PARTY_TEMPLATES = (
    ("{city}{brand}检测技术有限公司", ("chemistry", "mechanics", "electronics", "physical")),
    ("江苏{brand}检测技术有限公司", ("chemistry", "mechanics", "electronics", "physical")),
    ("{city}{brand}检验检测有限公司", ("chemistry", "mechanics", "electronics")),
    ("江苏{brand}检验认证有限公司", ("electronics", "mechanics", "chemistry")),
    ("{city}{brand}分析测试技术有限公司", ("structure", "microscopy", "chemistry", "surface")),
    ("江苏{brand}环境检测有限公司", ("chemistry",)),
    ("{city}{brand}计量检测有限公司", ("electronics", "mechanics")),
    ("{city}{brand}材料检测有限公司", ("mechanics", "microscopy", "physical")),
    ("{city}{brand}生物技术检测有限公司", ("bio", "chemistry")),
    ("{city}{brand}软件测评有限公司", ("software",)),
    ("{city}{brand}芯片测试技术有限公司", ("semiconductor", "electronics")),
)

DISCIPLINES = (
    ("新材料", ("microscopy", "structure", "physical")), ("生物医药", ("bio", "chemistry")),
    ("集成电路", ("semiconductor", "electronics")), ("智能制造", ("mechanics", "electronics")),
    ("新能源", ("physical", "surface", "electronics")), ("环境科学", ("chemistry",)),
    ("纺织科学", ("physical", "chemistry")), ("化工", ("chemistry", "physical")),
    ("先进制造技术", ("mechanics",)), ("纳米技术", ("microscopy", "surface")), ("食品药品", ("chemistry", "bio")),
    ("精密仪器", ("mechanics", "surface")), ("光电技术", ("semiconductor", "structure")),
    ("软件与信息技术", ("software", "electronics")),
)
DISCIPLINE_TEMPLATES = {
    "new_rnd": ("{city}{brand}{discipline}研究院有限公司", "江苏集萃{discipline}研究所有限公司"),
    "regional_platform_member": ("{city}市{discipline}研究所",),
    "public_platform": ("{city}{discipline}公共技术服务平台", "{city}高新区{discipline}公共服务中心"),
}
PUBLIC_INSTITUTIONS = (
    ("{city}市产品质量监督检验所", ("chemistry", "mechanics", "electronics")),
    ("{city}市计量测试院", ("electronics", "mechanics")),
    ("{city}市食品药品检验所", ("chemistry", "bio")),
    ("{city}市纤维检验所", ("physical", "chemistry")),
)
SOE_TEMPLATE = ("{city}{brand}科技集团有限公司", ("mechanics", "electronics", "semiconductor", "physical"))

# Shares of the generated provider population; "known" draws a real university or institute of the city.
UNIT_TYPE_WEIGHTS = {"third_party": 55, "new_rnd": 14, "regional_platform_member": 10, "public_platform": 9,
                     "public_institution": 7, "soe": 5, "known": 6}
_ATTEMPTS = 12


class NamedUnit(NamedTuple):
    name: str
    unit_type: str
    groups: tuple[str, ...]
    institution: Institution | None = None


class UnitNamer:
    """Draws a unit type and a name nobody else has; finite name spaces fall back to a third-party lab."""

    def __init__(self, rng: random.Random, taken_names):
        self.rng = rng
        self.used = set(taken_names)
        self._unused_known = list(KNOWN_INSTITUTIONS)

    def draw(self, city: str) -> NamedUnit:
        unit_type = self.rng.choices(tuple(UNIT_TYPE_WEIGHTS), weights=tuple(UNIT_TYPE_WEIGHTS.values()))[0]
        unit = self._known(city) if unit_type == "known" else self._invented(unit_type, city)
        unit = unit or self._invented("third_party", city)
        self.used.add(unit.name)
        return unit

    def _known(self, city: str) -> NamedUnit | None:
        for institution in self._unused_known:
            if institution.city == city and institution.name not in self.used:
                self._unused_known.remove(institution)
                return NamedUnit(institution.name, institution.unit_type, institution.groups, institution)
        return None

    def _invented(self, unit_type: str, city: str) -> NamedUnit | None:
        for _ in range(_ATTEMPTS if unit_type != "third_party" else _ATTEMPTS * 100):
            template, groups = self._template(unit_type)
            name = template.format(city=city, brand=self._brand())
            if name not in self.used:
                return NamedUnit(name, unit_type, groups)
        return None

    def _template(self, unit_type: str) -> tuple[str, tuple[str, ...]]:
        if unit_type == "third_party":
            return self.rng.choice(THIRD_PARTY_TEMPLATES)
        if unit_type == "public_institution":
            return self.rng.choice(PUBLIC_INSTITUTIONS)
        if unit_type == "soe":
            return SOE_TEMPLATE
        # The discipline is filled in here because it decides the groups.
        discipline, groups = self.rng.choice(DISCIPLINES)
        template = self.rng.choice(DISCIPLINE_TEMPLATES[unit_type])
        return template.replace("{discipline}", discipline), groups

    def _brand(self) -> str:
        first = self.rng.choice(BRAND_FIRST)
        second = self.rng.choice(BRAND_SECOND.replace(first, ""))
        return first + second
