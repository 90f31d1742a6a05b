{#
    A topic (hashtag) as one name, however it is delivered: "#分享你的618攻略#", "分享你的618攻略"
    and " #分享你的618攻略 " are the same topic. Campaigns and topic snapshots meet on it.
#}
{% macro topic_name(column) %}
    nullif(trim(both '# 　' from cast({{ column }} as string)), '')
{% endmacro %}
