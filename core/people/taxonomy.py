"""Fixed vocabularies for people: education levels and skills (特长)."""

from core.contributions import Label

EDUCATION = {
    "primary": Label("小学", "Primary school"),
    "junior": Label("初中", "Junior secondary"),
    "senior": Label("高中/中专", "Senior secondary / vocational"),
    "college": Label("大专", "Junior college"),
    "bachelor": Label("本科", "Bachelor's degree"),
    "postgraduate": Label("研究生", "Postgraduate"),
}

SKILLS = {
    "first_aid": Label("急救", "First aid"),
    "firefighting": Label("消防", "Firefighting"),
    "law": Label("法律", "Law"),
    "mediation": Label("调解", "Mediation"),
    "psychology": Label("心理咨询", "Counselling"),
    "medical": Label("医疗护理", "Medical care"),
    "driving": Label("驾驶", "Driving"),
    "rescue": Label("应急救援", "Emergency rescue"),
    "it": Label("信息技术", "IT"),
    "photography": Label("摄影摄像", "Photography and video"),
    "languages": Label("外语", "Foreign languages"),
    "sign_language": Label("手语", "Sign language"),
    "dialect": Label("方言沟通", "Local dialect"),
    "publicity": Label("宣传写作", "Publicity and writing"),
    "security": Label("安保巡逻", "Security and patrol"),
    "electrician": Label("电工", "Electrical work"),
}

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_PARTS = {
    "morning": Label("上午", "Morning"),
    "afternoon": Label("下午", "Afternoon"),
    "evening": Label("晚上", "Evening"),
    "night": Label("夜间", "Night"),
}
