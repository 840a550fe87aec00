from rest_framework import permissions, serializers, viewsets
from rest_framework.routers import SimpleRouter

from baseline.models import Entry


class EntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Entry
        fields = "__all__"
        read_only_fields = ["created_by", "created_at"]


class EntryViewSet(viewsets.ModelViewSet):
    queryset = Entry.objects.all()
    serializer_class = EntrySerializer
    permission_classes = [permissions.IsAuthenticated]

    def perform_create(self, serializer):
        serializer.save(created_by=self.request.user)


router = SimpleRouter()
router.register("entries", EntryViewSet)
urlpatterns = router.urls
