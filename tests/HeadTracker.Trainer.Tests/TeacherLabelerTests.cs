using System;
using System.IO;
using System.Linq;
using HeadTracker.Runtime.Detection;
using HeadTracker.Tests;
using HeadTracker.Trainer.Data;

namespace HeadTracker.Trainer.Tests;

public sealed class TeacherLabelerTests : IDisposable
{
    private readonly string _dir = Repo.NewTempDir("teacher");
    private readonly BlazeFaceDetector _detector = new(Repo.BlazeFaceFront);

    public void Dispose()
    {
        _detector.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public void Labels_the_faces_in_real_photos_and_skips_a_corrupt_image_with_its_name()
    {
        string input = Path.Combine(_dir, "in");
        Directory.CreateDirectory(input);
        foreach (string photo in new[] { "sample2.jpg", "sample3.jpg" })
        {
            File.Copy(Repo.Fetched("faces/" + photo), Path.Combine(input, photo));
        }

        string corrupt = Path.Combine(input, "broken.jpg");
        File.WriteAllBytes(corrupt, [0xFF, 0xD8, 0xFF, 0x00, 0x01]);

        var skipped = new SkipReport();
        string output = Path.Combine(_dir, "out");
        (int images, int faces) = new TeacherLabeler(_detector).Run(input, output, skipped, strict: false);

        Assert.Equal(2, images);
        Assert.Equal(3, faces); // one in sample2, two in sample3
        Assert.Equal(1, skipped.Count);
        Assert.Contains(corrupt, skipped.First[0], StringComparison.Ordinal);
        var labels = LabelsFile.Read(Path.Combine(output, LabelsFile.FileName), new SkipReport(), strict: true);
        Assert.All(labels, l =>
        {
            Assert.Equal("teacher", l.Source);
            Assert.Equal(6, l.Keypoints!.Length);
            Assert.InRange(l.Score!.Value, 0.5, 1.0);
            Assert.True(File.Exists(Path.Combine(output, l.Image)));
            Assert.True(l.Keypoints[0][0] < l.Keypoints[1][0], "right eye left of left eye");
        });

        var e = Assert.Throws<InvalidDataException>(() => new TeacherLabeler(_detector).Run(input, Path.Combine(_dir, "strict"), new SkipReport(), strict: true));
        Assert.Contains(corrupt, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_dir, "strict")), "a failed run leaves no output folder");
    }

    [Fact]
    public void Labels_video_frames_and_writes_them_as_images()
    {
        string video = ExternalData.Find(Path.Combine("opencv-data", "Megamind.avi"));
        string output = Path.Combine(_dir, "video");
        (int images, int faces) = new TeacherLabeler(_detector).Run(video, output, new SkipReport(), strict: true, every: 30, maxFrames: 5);
        Assert.Equal(5, images);
        Assert.InRange(faces, 4, 10);
        Assert.Equal(5, Directory.GetFiles(output, "Megamind_*.jpg").Length);
        Assert.True(File.Exists(Path.Combine(output, "Megamind_000120.jpg")));
    }
}
